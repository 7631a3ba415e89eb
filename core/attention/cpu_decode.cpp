#include "core/attention/cpu_decode.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/attention/cpu_decode_kernels.h"
#include "core/attention/cpu_tile_kernels.h"
#include "core/attention/parallel_for.h"

namespace core {

namespace {

using decode::kKeys;

// One visible key: its position and where its K and V rows (KV head 0) start.
struct Key {
  int32_t pos;
  const float* k;
  const float* v;
};

// What every part of a call shares: the visible keys of each query, where each query's parts
// start, and the parts' running state.
struct Plan {
  const AttentionCall* c = nullptr;
  int g = 0;  // query heads per KV head
  Isa isa = Isa::Scalar;
  std::vector<std::vector<Key>> keys;  // [n_q] the keys query t sees, by position
  std::vector<int> first_part;         // [n_q + 1] parts of query t: first_part[t] ..
  std::vector<float> m, l;             // [n_parts, n_kv_heads, g] running max and sum
  std::vector<float> o;                // [n_parts, n_kv_heads, g, hd] unnormalised output
};

// An item's buffers; one per thread, reused across items and calls.
struct Scratch {
  std::vector<const float*> k, v;  // [kKeys] the tile's K and V rows of this KV head
  std::vector<float> s;            // [g, kKeys] scores, then probabilities
  std::vector<float> alpha;        // [g] this tile's rescale
};

// The cache slots holding a position, in position order. A growing cache is already in
// order; a ring holds the same positions in other slots.
void slots_by_position(const AttentionCall& c, std::vector<int>& order) {
  order.clear();
  for (int s = 0; s < c.n_slots; ++s)
    if (c.slot_pos[s] >= 0) order.push_back(s);
  auto before = [&](int a, int b) { return c.slot_pos[a] < c.slot_pos[b]; };
  if (!std::is_sorted(order.begin(), order.end(), before))
    std::stable_sort(order.begin(), order.end(), before);
}

// The keys query position qp sees, in position order: cache slots first, then the chunk's
// fresh keys.
void visible_keys(const AttentionCall& c, const std::vector<int>& order, int32_t qp,
                  std::vector<Key>& keys) {
  const size_t kvd = static_cast<size_t>(c.n_kv_heads) * c.head_dim;
  int32_t max_d = 0;
  const bool band = attn::band_of(c.mask, &max_d);
  keys.clear();
  for (int s : order)
    if (band ? c.slot_pos[s] <= qp && int64_t{qp} - c.slot_pos[s] <= max_d
             : attn::visible(qp, c.slot_pos[s], c.mask))
      keys.push_back({c.slot_pos[s], c.k_cache + s * kvd, c.v_cache + s * kvd});
  for (int j = 0; j < c.n_q; ++j)
    if (attn::visible(qp, c.q_pos[j], c.mask))
      keys.push_back({c.q_pos[j], c.k_new + j * kvd, c.v_new + j * kvd});
}

void plan_call(const AttentionCall& c, Plan& p) {
  thread_local std::vector<int> order;
  slots_by_position(c, order);
  p.c = &c;
  p.g = c.n_heads / c.n_kv_heads;
  p.isa = current_isa();
  p.keys.resize(c.n_q);
  p.first_part.assign(c.n_q + 1, 0);
  for (int t = 0; t < c.n_q; ++t) {
    visible_keys(c, order, c.q_pos[t], p.keys[t]);
    const int n = static_cast<int>(p.keys[t].size());
    p.first_part[t + 1] = p.first_part[t] + std::max(1, (n + kSplitKeys - 1) / kSplitKeys);
  }
  const size_t rows = static_cast<size_t>(p.first_part[c.n_q]) * c.n_heads;
  p.m.assign(rows, -FLT_MAX);
  p.l.assign(rows, 0.0f);
  p.o.assign(rows * c.head_dim, 0.0f);
  // Captured rows start at -inf (not seen); the parts write the scores of the keys they see.
  if (c.prob_rows)
    for (int r = 0; r < c.n_q * c.n_heads; ++r)
      if (float* row = c.prob_rows[r]) std::fill(row, row + c.q_pos[r / c.n_heads] + 1, -INFINITY);
}

// The g query heads of KV head kvh on one tile of n keys of query t, from key j0 on; m, l and
// o are those rows' running state.
void run_tile(const Plan& p, int t, int kvh, int j0, int n, float* m, float* l, float* o,
              Scratch& w) {
  const AttentionCall& c = *p.c;
  const int hd = c.head_dim, g = p.g;
  const size_t off = static_cast<size_t>(kvh) * hd;
  const Key* keys = p.keys[t].data() + j0;
  for (int j = 0; j < n; ++j) {
    w.k[j] = keys[j].k + off;
    w.v[j] = keys[j].v + off;
  }
  const float* q = c.q + (static_cast<size_t>(t) * c.n_heads + kvh * g) * hd;
  decode::scores(p.isa, q, g, w.k.data(), n, hd, c.scale, w.s.data());
  if (c.prob_rows)
    for (int r = 0; r < g; ++r)
      if (float* row = c.prob_rows[t * c.n_heads + kvh * g + r])
        for (int j = 0; j < n; ++j) row[keys[j].pos] = w.s[r * kKeys + j];
  decode::softmax(p.isa, w.s.data(), g, n, m, l, w.alpha.data());
  decode::pv(p.isa, w.s.data(), g, w.v.data(), n, hd, w.alpha.data(), o);
}

// Part `part` of query t, the keys [kSplitKeys * (part - first_part[t]), ...), for every
// head. The KV heads take turns within a tile, so the tile's K and V rows (all heads of a
// position side by side in the cache) are read front to back.
void run_part(Plan& p, int t, int part, Scratch& w) {
  const AttentionCall& c = *p.c;
  const int hd = c.head_dim, g = p.g;
  const int j_begin = (part - p.first_part[t]) * kSplitKeys;
  const int j_end = std::min(static_cast<int>(p.keys[t].size()), j_begin + kSplitKeys);
  w.k.resize(kKeys);
  w.v.resize(kKeys);
  w.s.resize(static_cast<size_t>(g) * kKeys);
  w.alpha.resize(g);
  const size_t kvd = static_cast<size_t>(c.n_kv_heads) * hd;
  for (int j0 = j_begin; j0 < j_end; j0 += kKeys) {
    // The next tile's K and V rows, all heads, on their way from memory while this one runs.
    for (int j = j0 + kKeys; j < std::min(j_end, j0 + 2 * kKeys); ++j)
      for (size_t b = 0; b < kvd; b += 16) {
        __builtin_prefetch(p.keys[t][j].k + b, 0, 2);
        __builtin_prefetch(p.keys[t][j].v + b, 0, 2);
      }
    for (int kvh = 0; kvh < c.n_kv_heads; ++kvh) {
      const size_t row0 = static_cast<size_t>(part) * c.n_heads + kvh * g;
      run_tile(p, t, kvh, j0, std::min(kKeys, j_end - j0), p.m.data() + row0, p.l.data() + row0,
               p.o.data() + row0 * hd, w);
    }
  }
}

// Row (t, h): its parts merged in order (each part's output rescaled by exp(m_i - m)), then
// normalised; the captured scores become probabilities.
void finish_row(const Plan& p, int t, int h, std::vector<float>& acc) {
  const AttentionCall& c = *p.c;
  const int hd = c.head_dim;
  const int p0 = p.first_part[t], n_parts = p.first_part[t + 1] - p0;
  auto at = [&](int i) { return static_cast<size_t>(p0 + i) * c.n_heads + h; };
  float m = -FLT_MAX, l = 0.0f;
  for (int i = 0; i < n_parts; ++i) m = std::max(m, p.m[at(i)]);
  acc.assign(hd, 0.0f);
  for (int i = 0; i < n_parts; ++i) {
    const float w = n_parts == 1 ? 1.0f : tile::exp(p.m[at(i)] - m);
    l += p.l[at(i)] * w;
    const float* o = p.o.data() + at(i) * hd;
    for (int d = 0; d < hd; ++d) acc[d] += w * o[d];
  }
  const float inv = l > 0.0f ? 1.0f / l : 0.0f;
  float* out = c.out + (static_cast<size_t>(t) * c.n_heads + h) * hd;
  for (int d = 0; d < hd; ++d) out[d] = acc[d] * inv;
  if (float* row = c.prob_rows ? c.prob_rows[t * c.n_heads + h] : nullptr)
    tile::probabilities(p.isa, row, c.q_pos[t] + 1, m, inv);
}

}  // namespace

void cpu_attention_decode(const AttentionCall& c, int n_threads) {
  thread_local Plan plan;
  Plan& p = plan;  // the caller's plan: a thread_local named in the lambda would be the helper's
  plan_call(c, p);
  const int n_parts = p.first_part[c.n_q];
  thread_local std::vector<int> query_of;  // [n_parts] the query a part belongs to
  query_of.resize(n_parts);
  for (int t = 0; t < c.n_q; ++t)
    std::fill(query_of.begin() + p.first_part[t], query_of.begin() + p.first_part[t + 1], t);
  std::vector<int>& owner = query_of;
  const std::function<void(int)> part = [&](int i) {
    thread_local Scratch scratch;
    run_part(p, owner[i], i, scratch);
  };
  if (c.parallel && n_threads > 1) {
    // The lender's threads spin between the projections: no thread starts for the parts.
    (*c.parallel)(n_parts, part);
  } else {
    long work = 0;
    for (const auto& k : p.keys) work += static_cast<long>(k.size()) * c.n_heads * c.head_dim;
    // Starting and joining a thread costs ~20-50 µs (more on a loaded machine); below this
    // many multiply-adds a call runs on the calling thread.
    parallel_for_dynamic(n_parts, work < (1L << 21) ? 1 : n_threads, part);
  }
  thread_local std::vector<float> acc;
  for (int r = 0; r < c.n_q * c.n_heads; ++r) finish_row(p, r / c.n_heads, r % c.n_heads, acc);
}

}  // namespace core
