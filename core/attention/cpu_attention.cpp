#include "core/attention/cpu_attention.h"

#include <cmath>
#include <vector>

#include "core/attention/attn_math.h"
#include "core/attention/parallel_for.h"

namespace core {

namespace {

constexpr int kTile = 64;

// One (query, head) row: tiles over the cached keys, then over the chunk's fresh keys.
void attention_row(const AttentionCall& c, int t, int h) {
  const int hd = c.head_dim;
  const int kv_stride = c.n_kv_heads * hd;
  const int kvh = attn::kv_head_of(h, c.n_heads, c.n_kv_heads);
  const int32_t qp = c.q_pos[t];
  const float* q = c.q + (static_cast<size_t>(t) * c.n_heads + h) * hd;
  float* row = c.prob_rows ? c.prob_rows[t * c.n_heads + h] : nullptr;
  if (row)
    for (int k = 0; k <= qp; ++k) row[k] = -INFINITY;

  float acc[512];
  float scores[kTile], p[kTile];
  bool valid[kTile];
  int32_t kpos[kTile];
  for (int d = 0; d < hd; ++d) acc[d] = 0.0f;
  attn::OnlineSoftmax st = attn::online_softmax_init();

  auto run_source = [&](const float* kbase, const float* vbase, int n, auto pos_of) {
    for (int j0 = 0; j0 < n; j0 += kTile) {
      const int m = n - j0 < kTile ? n - j0 : kTile;
      for (int j = 0; j < m; ++j) kpos[j] = pos_of(j0 + j);
      if (!attn::mask_tile(qp, kpos, m, c.mask, valid)) continue;
      const float* kt = kbase + static_cast<size_t>(j0) * kv_stride + kvh * hd;
      const float* vt = vbase + static_cast<size_t>(j0) * kv_stride + kvh * hd;
      attn::score_tile(q, kt, kv_stride, m, hd, c.scale, valid, scores);
      if (row)
        for (int j = 0; j < m; ++j)
          if (valid[j]) row[kpos[j]] = scores[j];
      attn::online_softmax_tile(st, scores, m, p, acc, hd);
      attn::accumulate_pv(p, vt, kv_stride, m, hd, acc);
    }
  };
  if (c.n_slots > 0)
    run_source(c.k_cache, c.v_cache, c.n_slots, [&](int s) { return c.slot_pos[s]; });
  run_source(c.k_new, c.v_new, c.n_q, [&](int j) { return c.q_pos[j]; });

  attn::finish_row(st, acc, hd, c.out + (static_cast<size_t>(t) * c.n_heads + h) * hd);
  if (row) {
    // Scores were kept raw; the final max and sum turn them into probabilities.
    const float inv = attn::inverse_sum(st);
    for (int k = 0; k <= qp; ++k) row[k] = attn::final_probability(row[k], st, inv);
  }
}

}  // namespace

void cpu_attention(const AttentionCall& c, int n_threads) {
  if (c.head_dim > 512) throw std::invalid_argument("cpu_attention: head_dim > 512");
  const int rows = c.n_q * c.n_heads;
  const long work = static_cast<long>(rows) * (c.n_slots + c.n_q) * c.head_dim;
  const int nt = work < 200000 ? 1 : n_threads;
  parallel_for(rows, nt, [&](int r) { attention_row(c, r / c.n_heads, r % c.n_heads); });
}

void cpu_attention(const AttentionCall& c, int n_threads, PrefillScratch& scratch) {
  if (c.n_q >= kPrefillMinQueries)
    cpu_attention_prefill(c, n_threads, scratch);
  else
    cpu_attention(c, n_threads);
}

std::unique_ptr<Backend> make_cpu_backend(int n_threads) {
  return std::make_unique<CpuBackend>(n_threads);
}

}  // namespace core
