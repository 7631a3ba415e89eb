#include "core/attention/cpu_attention.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/attention/attn_math.h"
#include "core/attention/parallel_for.h"

namespace core {

namespace {

constexpr int kTile = 64;

// One visible key of a row: where its K and V rows start and which position it holds.
struct KeyRef {
  const float* k;
  const float* v;
  int32_t pos;
};

// The cache slots in position order (empty slots last), computed once per call. A growing
// cache is already in order; a ring holds the same positions in other slots.
std::vector<int> slots_by_position(const AttentionCall& c) {
  std::vector<int> order(c.n_slots);
  for (int s = 0; s < c.n_slots; ++s) order[s] = s;
  auto before = [&](int a, int b) {
    const uint32_t pa = static_cast<uint32_t>(c.slot_pos[a]),
                   pb = static_cast<uint32_t>(c.slot_pos[b]);
    return pa < pb;  // -1 (empty) wraps to the largest value and sorts last
  };
  if (!std::is_sorted(order.begin(), order.end(), before))
    std::stable_sort(order.begin(), order.end(), before);
  return order;
}

// The keys query position qp sees, in position order: cache slots first, then the chunk's
// fresh keys. Tiles are cut from this compact list, so a ring and a growing cache holding
// the same keys run the same arithmetic in the same order and agree bit for bit.
void visible_keys(const AttentionCall& c, const std::vector<int>& order, int32_t qp, int kvh,
                  std::vector<KeyRef>& keys) {
  const size_t kv_stride = static_cast<size_t>(c.n_kv_heads) * c.head_dim;
  const size_t off = static_cast<size_t>(kvh) * c.head_dim;
  keys.clear();
  for (int s : order) {
    const int32_t kp = c.slot_pos[s];
    if (kp >= 0 && attn::visible(qp, kp, c.mask))
      keys.push_back({c.k_cache + s * kv_stride + off, c.v_cache + s * kv_stride + off, kp});
  }
  for (int j = 0; j < c.n_q; ++j)
    if (attn::visible(qp, c.q_pos[j], c.mask))
      keys.push_back({c.k_new + j * kv_stride + off, c.v_new + j * kv_stride + off, c.q_pos[j]});
}

// One (query, head) row: the online softmax over its visible keys, kTile keys at a time.
void attention_row(const AttentionCall& c, const std::vector<int>& order, int t, int h,
                   std::vector<KeyRef>& keys) {
  const int hd = c.head_dim;
  const int32_t qp = c.q_pos[t];
  const float* q = c.q + (static_cast<size_t>(t) * c.n_heads + h) * hd;
  float* row = c.prob_rows ? c.prob_rows[t * c.n_heads + h] : nullptr;
  if (row)
    for (int k = 0; k <= qp; ++k) row[k] = -INFINITY;
  visible_keys(c, order, qp, attn::kv_head_of(h, c.n_heads, c.n_kv_heads), keys);

  float acc[512];
  float scores[kTile], p[kTile];
  const bool valid = true;
  for (int d = 0; d < hd; ++d) acc[d] = 0.0f;
  attn::OnlineSoftmax st = attn::online_softmax_init();
  const int n = static_cast<int>(keys.size());
  for (int j0 = 0; j0 < n; j0 += kTile) {
    const int m = n - j0 < kTile ? n - j0 : kTile;
    const KeyRef* tile = keys.data() + j0;
    for (int j = 0; j < m; ++j)
      attn::score_tile(q, tile[j].k, 0, 1, hd, c.scale, &valid, &scores[j]);
    if (row)
      for (int j = 0; j < m; ++j) row[tile[j].pos] = scores[j];
    attn::online_softmax_tile(st, scores, m, p, acc, hd);
    for (int j = 0; j < m; ++j) attn::accumulate_pv(&p[j], tile[j].v, 0, 1, hd, acc);
  }

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
  if (c.n_q >= kPrefillMinQueries) return cpu_attention_prefill(c, n_threads);
  const int rows = c.n_q * c.n_heads;
  const long work = static_cast<long>(rows) * (c.n_slots + c.n_q) * c.head_dim;
  // Starting and joining a thread costs ~20-50 µs (more on a loaded machine), about what the
  // per-row path takes for 1M multiply-adds: a decode step's attention below that (SmolLM2:
  // up to ~1800 cached keys) runs on the calling thread.
  const int nt = work < (1L << 20) ? 1 : n_threads;
  const std::vector<int> order = slots_by_position(c);
  parallel_for(rows, nt, [&](int r) {
    thread_local std::vector<KeyRef> keys;
    attention_row(c, order, r / c.n_heads, r % c.n_heads, keys);
  });
}

std::unique_ptr<Backend> make_cpu_backend(int n_threads) {
  return std::make_unique<CpuBackend>(n_threads);
}

}  // namespace core
