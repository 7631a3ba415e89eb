// Launcher of the attention kernel. Plain header (no CUDA runtime types) so host code compiled
// by the C++ compiler can call it; every pointer in `p` must be device memory.
#pragma once

#include "kernels/attention_block.h"

namespace kernels {

// Enqueues the kernel on `stream` (a cudaStream_t, null = default stream) and returns the
// cudaError_t of the launch as an int (0 = cudaSuccess).
int attention(const AttentionParams& p, void* stream);

// cudaSuccess (0) when the current device can run the kernel: this binary holds code for its
// architecture (CMAKE_CUDA_ARCHITECTURES, 80;90 by default) and the driver can load it.
int attention_kernel_loadable();

}  // namespace kernels
