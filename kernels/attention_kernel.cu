// The attention kernel: the phases of attention_block.h with barriers between them. The math
// is attn_math.h's and the tiling is attention_block.h's; this file only adds the launch, the
// shared memory and the barriers.
#include <cuda_runtime.h>

#include "kernels/attention_kernel.h"

namespace kernels {

namespace {

__global__ void attention_kernel(AttentionParams p, LaunchShape shape) {
  extern __shared__ float smem[];
  const int kv_head = blockIdx.y;
  const int tid = threadIdx.x;
  const BlockShared sh = block_shared(smem, shape, p.head_dim);
  ThreadRow r;
  row_begin(p, shape, blockIdx.x, kv_head, tid, r);
  for (int source = kSourceCache; source <= kSourceNew; ++source) {
    const int n = source_length(p, source);
    for (int j0 = 0; j0 < n; j0 += shape.key_tile) {
      const int m = n - j0 < shape.key_tile ? n - j0 : shape.key_tile;
      stage_positions(p, source, j0, m, tid, blockDim.x, sh);
      __syncthreads();
      const bool sees = row_mask(p, sh, m, r);
      // Every thread reaches this barrier, so skipping a tile nobody sees is uniform.
      if (!__syncthreads_or(sees)) continue;
      stage_kv(p, source, kv_head, j0, m, tid, blockDim.x, sh);
      __syncthreads();
      if (sees) row_tile(p, sh, r);
      __syncthreads();
    }
  }
  row_publish(p, sh, r);
  __syncthreads();
  row_end(p, sh, r);
}

}  // namespace

int attention(const AttentionParams& p, void* stream) {
  if (p.n_q <= 0) return cudaSuccess;
  const LaunchShape shape = launch_shape(p.n_q, p.n_heads, p.n_kv_heads, p.head_dim);
  const dim3 grid(shape.query_blocks, p.n_kv_heads);
  const size_t shared_bytes = static_cast<size_t>(shape.shared_floats) * sizeof(float);
  attention_kernel<<<grid, shape.threads, shared_bytes, static_cast<cudaStream_t>(stream)>>>(p,
                                                                                             shape);
  return static_cast<int>(cudaGetLastError());
}

int attention_kernel_loadable() {
  cudaFuncAttributes attr;
  return static_cast<int>(cudaFuncGetAttributes(&attr, attention_kernel));
}

}  // namespace kernels
