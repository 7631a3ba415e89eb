#include "kernels/kernel_emulator.h"

#include <mutex>
#include <vector>

#include "core/attention/cpu_attention.h"
#include "core/attention/parallel_for.h"
#include "kernels/call_packing.h"

namespace kernels {

namespace {

// True when every active row's lane share of the tile is all visible (and some row is active).
bool tile_full(const std::vector<ThreadRow>& rows) {
  bool any_active = false;
  for (const ThreadRow& r : rows) {
    if (!r.active) continue;
    any_active = true;
    for (int j = 0; j < r.hi - r.lo; ++j)
      if (!r.valid[j]) return false;
  }
  return any_active;
}

// One block of attention_kernel: every phase runs for all of the block's threads before the
// next phase starts, which is what the kernel's barriers guarantee. `c` counts what it touches.
void emulate_block(const AttentionParams& p, const LaunchShape& shape, int block_x, int kv_head,
                   KernelCounts& c) {
  constexpr int64_t kF = sizeof(float), kI = sizeof(int32_t);
  std::vector<float> smem(shape.shared_floats);
  const BlockShared sh = block_shared(smem.data(), shape, p.head_dim);
  std::vector<ThreadRow> rows(shape.threads);
  std::vector<char> sees(shape.threads);
  for (int tid = 0; tid < shape.threads; ++tid)
    row_begin(p, shape, block_x, kv_head, tid, rows[tid]);
  for (int tid = 0; tid < shape.threads; ++tid)
    if (rows[tid].active && rows[tid].lane == 0) c.bytes_q += p.head_dim * kF;
  for (int source = kSourceCache; source <= kSourceNew; ++source) {
    const int n = source_length(p, source);
    for (int j0 = 0; j0 < n; j0 += shape.key_tile) {
      const int m = n - j0 < shape.key_tile ? n - j0 : shape.key_tile;
      for (int tid = 0; tid < shape.threads; ++tid)
        stage_positions(p, source, j0, m, tid, shape.threads, sh);
      ++c.tiles;
      c.bytes_pos += m * kI;
      bool any = false;  // __syncthreads_or
      for (int tid = 0; tid < shape.threads; ++tid) {
        sees[tid] = row_mask(p, sh, m, rows[tid]);
        any |= sees[tid] != 0;
      }
      if (!any) {
        ++c.tiles_skipped;
        continue;
      }
      c.tiles_full += tile_full(rows) ? 1 : 0;
      for (int tid = 0; tid < shape.threads; ++tid)
        stage_kv(p, source, kv_head, j0, m, tid, shape.threads, sh);
      c.bytes_kv += 2 * m * p.head_dim * kF;
      for (int tid = 0; tid < shape.threads; ++tid)
        if (sees[tid]) row_tile(p, sh, rows[tid]);
    }
  }
  for (int tid = 0; tid < shape.threads; ++tid) row_publish(p, sh, rows[tid]);
  for (int tid = 0; tid < shape.threads; ++tid) row_end(p, sh, rows[tid]);
  for (int tid = 0; tid < shape.threads; ++tid)
    if (rows[tid].active && rows[tid].lane == 0) c.bytes_out += p.head_dim * kF;
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

void emulate_attention(const AttentionParams& p, int n_threads, KernelCounts* counts) {
  if (p.n_q <= 0) return;
  const LaunchShape shape = launch_shape(p.n_q, p.n_heads, p.n_kv_heads, p.head_dim);
  const int blocks = shape.query_blocks * p.n_kv_heads;
  std::mutex mu;
  core::parallel_for(blocks, n_threads, [&](int b) {
    KernelCounts c;
    emulate_block(p, shape, b % shape.query_blocks, b / shape.query_blocks, c);
    if (!counts) return;
    const std::lock_guard<std::mutex> lock(mu);
    counts->tiles += c.tiles;
    counts->tiles_skipped += c.tiles_skipped;
    counts->tiles_full += c.tiles_full;
    counts->bytes_kv += c.bytes_kv;
    counts->bytes_pos += c.bytes_pos;
    counts->bytes_q += c.bytes_q;
    counts->bytes_out += c.bytes_out;
  });
}

std::unique_ptr<core::Backend> make_kernel_emulator_backend(int n_threads) {
  return std::make_unique<KernelEmulatorBackend>(n_threads);
}

}  // namespace kernels
