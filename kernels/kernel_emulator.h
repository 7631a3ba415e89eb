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

// Runs the kernel's blocks for `p` (host pointers) one after another, or over up to n_threads
// CPU threads, one block at a time each (0 = all cores).
void emulate_attention(const AttentionParams& p, int n_threads);

// The core::Backend that packs an AttentionCall the way CudaBackend does and emulates the
// kernel on it. Calls with head_dim > kMaxHeadDim go to the CPU backend, as on the GPU.
std::unique_ptr<core::Backend> make_kernel_emulator_backend(int n_threads = 0);

}  // namespace kernels
