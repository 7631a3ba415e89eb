// Launcher of the attention kernel. Plain header (no CUDA runtime types) so host code compiled
// by the C++ compiler can call it; every pointer in `p` must be device memory.
#pragma once

#include "kernels/attention_block.h"

namespace kernels {

// Enqueues the kernel on `stream` (a cudaStream_t, null = default stream) and returns the
// cudaError_t of the launch as an int (0 = cudaSuccess).
int attention(const AttentionParams& p, void* stream);

}  // namespace kernels
