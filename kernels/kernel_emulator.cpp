#include "kernels/kernel_emulator.h"

#include <vector>

#include "core/attention/cpu_attention.h"
#include "core/attention/parallel_for.h"
#include "kernels/call_packing.h"

namespace kernels {

namespace {

// One block of attention_kernel: every phase runs for all of the block's threads before the
// next phase starts, which is what the kernel's barriers guarantee.
void emulate_block(const AttentionParams& p, const LaunchShape& shape, int block_x, int kv_head) {
  std::vector<float> smem(shape.shared_floats);
  const BlockShared sh = block_shared(smem.data(), shape, p.head_dim);
  std::vector<ThreadRow> rows(shape.threads);
  std::vector<char> sees(shape.threads);
  for (int tid = 0; tid < shape.threads; ++tid)
    row_begin(p, shape, block_x, kv_head, tid, rows[tid]);
  for (int source = kSourceCache; source <= kSourceNew; ++source) {
    const int n = source_length(p, source);
    for (int j0 = 0; j0 < n; j0 += shape.key_tile) {
      const int m = n - j0 < shape.key_tile ? n - j0 : shape.key_tile;
      for (int tid = 0; tid < shape.threads; ++tid)
        stage_positions(p, source, j0, m, tid, shape.threads, sh);
      bool any = false;  // __syncthreads_or
      for (int tid = 0; tid < shape.threads; ++tid) {
        sees[tid] = row_mask(p, sh, m, rows[tid]);
        any |= sees[tid] != 0;
      }
      if (!any) continue;
      for (int tid = 0; tid < shape.threads; ++tid)
        stage_kv(p, source, kv_head, j0, m, tid, shape.threads, sh);
      for (int tid = 0; tid < shape.threads; ++tid)
        if (sees[tid]) row_tile(p, sh, rows[tid]);
    }
  }
  for (int tid = 0; tid < shape.threads; ++tid) row_publish(p, sh, rows[tid]);
  for (int tid = 0; tid < shape.threads; ++tid) row_end(p, sh, rows[tid]);
}

class KernelEmulatorBackend : public core::Backend {
 public:
  explicit KernelEmulatorBackend(int n_threads) : n_threads_(n_threads) {}
  const char* name() const override { return "kernel-emulator"; }

  void attention(const core::AttentionCall& c) override {
    if (!kernel_unsupported_reason(c).empty()) {
      core::cpu_attention(c, n_threads_);
      return;
    }
    AttentionParams p = params_from_call(c);
    const PackedCapture pc = pack_capture(c);
    std::vector<float> probs(pc.total);
    p.probs = probs.data();
    p.prob_offset = pc.offset.empty() ? nullptr : pc.offset.data();
    emulate_attention(p, n_threads_);
    unpack_capture(c, pc, probs.data());
  }

 private:
  int n_threads_;
};

}  // namespace

void emulate_attention(const AttentionParams& p, int n_threads) {
  if (p.n_q <= 0) return;
  const LaunchShape shape = launch_shape(p.n_q, p.n_heads, p.n_kv_heads, p.head_dim);
  const int blocks = shape.query_blocks * p.n_kv_heads;
  core::parallel_for(blocks, n_threads, [&](int b) {
    emulate_block(p, shape, b % shape.query_blocks, b / shape.query_blocks);
  });
}

std::unique_ptr<core::Backend> make_kernel_emulator_backend(int n_threads) {
  return std::make_unique<KernelEmulatorBackend>(n_threads);
}

}  // namespace kernels
