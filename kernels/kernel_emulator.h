// A backend that runs the CUDA kernel's code path on the CPU: the same LaunchShape, the same
// per-phase block and thread functions of attention_block.h, shared memory as a plain array,
// and a loop over threads in place of each barrier. It exists so CI exercises the kernel's math
// and tiling without a GPU; it is not meant to be fast.
#pragma once

#include <memory>
#include <string>

#include "core/attention/backend.h"
#include "kernels/attention_block.h"

namespace kernels {

// What the kernel's blocks touched, counted by the emulator as it runs them (the flash view's
// formulas for the same call are checked against these). Bytes are those one block moves
// between global and shared memory or registers: K/V rows it stages, key positions it stages,
// query rows it loads and output rows it writes.
struct KernelCounts {
  int64_t tiles = 0;          // (block, key tile) pairs, skipped ones included
  int64_t tiles_skipped = 0;  // no row of the block sees any key of the tile: K/V not staged
  int64_t tiles_full = 0;     // every active row sees every key of the tile
  int64_t bytes_kv = 0;       // K and V rows staged
  int64_t bytes_pos = 0;      // key positions staged (every tile, skipped or not)
  int64_t bytes_q = 0;        // query rows read
  int64_t bytes_out = 0;      // output rows written
};

// Runs the kernel's blocks for `p` (host pointers) one after another, or over up to n_threads
// CPU threads, one block at a time each (0 = all cores). With `counts`, adds what they touched.
void emulate_attention(const AttentionParams& p, int n_threads, KernelCounts* counts = nullptr);

// The core::Backend that packs an AttentionCall the way CudaBackend does and emulates the
// kernel on it. Calls with head_dim > kMaxHeadDim go to the CPU backend, as on the GPU.
std::unique_ptr<core::Backend> make_kernel_emulator_backend(int n_threads = 0);

}  // namespace kernels
