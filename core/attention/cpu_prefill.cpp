// GCC 12 flags the undefined-value intrinsics inside avx512fintrin.h (a false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/attention/cpu_prefill.h"

#include <immintrin.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/attention/attn_math.h"
#include "core/attention/cpu_tile_kernels.h"
#include "core/attention/parallel_for.h"
#include "core/attention/simd_transpose.h"

namespace core {

namespace {

using tile::kKeys;

// Query rows (queries × the query heads of one KV head) an item of work holds, by head_dim:
// its queries, scores and output and the tile's K/V rows stay in L2 (~130-270 KB).
int block_rows(int head_dim) {
  return head_dim <= 128 ? 128 : 64;
}

// What every item of a call shares.
struct CallPlan {
  const AttentionCall* c;
  int group;  // query heads per KV head
  int bq;     // queries per block
  int n_blocks;
  bool band;  // the mask is 0 <= q - k <= max_d (spec.h band_of)
  int32_t max_d;
  bool q_consecutive;      // q_pos[t] == q_pos[0] + t
  std::vector<int> order;  // cache slots holding a position, by position
  Isa isa;
};

// One key column of a block: its position and where its K and V rows (KV head 0) start.
struct Column {
  int32_t pos;
  const float* k;
  const float* v;
};

// An item's buffers; one per thread, reused across items.
// Rows are padded to ld, a multiple of tile::kRowAlign; padded rows are zero and masked.
struct Scratch {
  std::vector<Column> cols;        // [n_cols] the keys some query of the block sees, by position
  std::vector<float> qt;           // [hd, ld] the rows' queries, transposed
  std::vector<const float*> k, v;  // [kKeys] the tile's K and V rows of this KV head
  std::vector<float> st;           // [kKeys, ld] scores, then probabilities
  std::vector<float> valid;        // [kKeys, ld] 1 where the row's query sees the key, else 0
  std::vector<float> o;            // [rows, hd] running output, unnormalised
  std::vector<float> m, l, alpha;  // [ld] running max, running sum, this tile's rescale
};

CallPlan plan_call(const AttentionCall& c) {
  CallPlan p;
  p.c = &c;
  p.group = c.n_heads / c.n_kv_heads;
  p.bq = std::max(1, block_rows(c.head_dim) / p.group);
  p.n_blocks = (c.n_q + p.bq - 1) / p.bq;
  p.band = attn::band_of(c.mask, &p.max_d);
  p.q_consecutive = true;
  for (int t = 0; t < c.n_q; ++t) p.q_consecutive &= c.q_pos[t] == c.q_pos[0] + t;
  for (int s = 0; s < c.n_slots; ++s)
    if (c.slot_pos[s] >= 0) p.order.push_back(s);
  // Position order, so a ring and a growing cache holding the same keys give the same
  // columns and tiles, hence the same sums, whatever slots the ring put them in.
  std::stable_sort(p.order.begin(), p.order.end(),
                   [&](int a, int b) { return c.slot_pos[a] < c.slot_pos[b]; });
  p.isa = current_isa();
  return p;
}

// The columns of queries [t0, t1): cache keys first, then the chunk's own, by position.
void block_columns(const CallPlan& p, int t0, int t1, std::vector<Column>& cols) {
  const AttentionCall& c = *p.c;
  const size_t kvd = static_cast<size_t>(c.n_kv_heads) * c.head_dim;
  const int64_t qmin = c.q_pos[t0], qmax = c.q_pos[t1 - 1];
  auto seen = [&](int32_t kp) {
    if (p.band && p.q_consecutive) return kp <= qmax && kp + int64_t{p.max_d} >= qmin;
    for (int t = t0; t < t1; ++t)
      if (attn::visible(c.q_pos[t], kp, c.mask)) return true;
    return false;
  };
  cols.clear();
  for (int s : p.order)
    if (seen(c.slot_pos[s]))
      cols.push_back({c.slot_pos[s], c.k_cache + s * kvd, c.v_cache + s * kvd});
  for (int j = 0; j < c.n_q; ++j)
    if (seen(c.q_pos[j])) cols.push_back({c.q_pos[j], c.k_new + j * kvd, c.v_new + j * kvd});
}

// valid[j * ld + r] for the tile's n columns and rows r < rows (row r holds query t0 + r / g);
// returns false when every query of the block sees every column (valid is then not written).
bool tile_mask(const CallPlan& p, int t0, int t1, const Column* cols, int n, int ld, float* valid) {
  const AttentionCall& c = *p.c;
  if (p.band) {
    int64_t qlo = INT64_MAX, qhi = INT64_MIN, klo = INT64_MAX, khi = INT64_MIN;
    for (int t = t0; t < t1; ++t)
      qlo = std::min<int64_t>(qlo, c.q_pos[t]), qhi = std::max<int64_t>(qhi, c.q_pos[t]);
    for (int j = 0; j < n; ++j)
      klo = std::min<int64_t>(klo, cols[j].pos), khi = std::max<int64_t>(khi, cols[j].pos);
    if (qlo >= khi && qhi - klo <= p.max_d) return false;
  }
  const int g = p.group, rows = (t1 - t0) * g;
  for (int j = 0; j < n; ++j) {
    float* vj = valid + static_cast<size_t>(j) * ld;
    const int64_t kp = cols[j].pos;
    for (int t = t0; t < t1; ++t) {
      const int64_t q = c.q_pos[t];
      const bool vis = p.band ? q - kp >= 0 && q - kp <= p.max_d
                              : attn::visible(c.q_pos[t], cols[j].pos, c.mask);
      std::fill(vj + (t - t0) * g, vj + (t - t0 + 1) * g, vis ? 1.0f : 0.0f);
    }
    std::fill(vj + rows, vj + ld, 0.0f);
  }
  return true;
}

float* capture_row(const AttentionCall& c, int t, int h) {
  return c.prob_rows ? c.prob_rows[t * c.n_heads + h] : nullptr;
}

// The first key a captured row of query position q can see: under a band mask the keys
// before it are 0 whatever the scores, so only [lo, q] goes through the softmax.
int first_seen(const AttentionCall& c, int32_t q) {
  return std::max(0, attn::band_first_key(c.mask, q));
}

// dst[j * ld + c] = src[c][j] for c < 16, j < n (a multiple of 16): 16 rows become columns.
__attribute__((target("avx512f"))) void rows_to_columns16(const float* const* src, int n,
                                                          float* dst, size_t ld) {
  for (int j0 = 0; j0 < n; j0 += 16) {
    __m512 r[16];
    for (int c = 0; c < 16; ++c) r[c] = _mm512_loadu_ps(src[c] + j0);
    simd::transpose16x16(r);
    for (int j = 0; j < 16; ++j) _mm512_storeu_ps(dst + (j0 + j) * ld, r[j]);
  }
}

// dst[c][j] = src[j * ld + c] * scale for c < 16, j < n (a multiple of 16): the inverse, scaled;
// a null dst[c] is skipped, and with `valid` ([j * ld + c], 1 or 0) so are the keys it hides.
__attribute__((target("avx512f"))) void columns_to_rows16(const float* src, const float* valid,
                                                          size_t ld, int n, float scale,
                                                          float* const* dst) {
  const __m512 s = _mm512_set1_ps(scale);
  for (int j0 = 0; j0 < n; j0 += 16) {
    __m512 r[16], v[16];
    for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_ps(src + (j0 + j) * ld);
    simd::transpose16x16(r);
    if (valid) {
      for (int j = 0; j < 16; ++j) v[j] = _mm512_loadu_ps(valid + (j0 + j) * ld);
      simd::transpose16x16(v);
    }
    for (int c = 0; c < 16; ++c) {
      if (!dst[c]) continue;
      // Hidden keys' lanes are not stored (nor can they fault): they may lie past the row.
      const __mmask16 m = valid ? _mm512_cmp_ps_mask(v[c], _mm512_setzero_ps(), _CMP_NEQ_OQ)
                                : static_cast<__mmask16>(0xffff);
      _mm512_mask_storeu_ps(dst[c] + j0, m, _mm512_mul_ps(r[c], s));
    }
  }
}

// The block's queries transposed: qt[d * ld + r] = row r's query [d] for r < rows (row r holds
// query t0 + r / g, head kvh * g + r % g); 16 rows at a time on AVX-512.
void transpose_queries(const CallPlan& p, int t0, int kvh, int rows, int ld, float* qt) {
  const AttentionCall& c = *p.c;
  const int hd = c.head_dim, g = p.group;
  auto q_row = [&](int r) {
    return c.q + (static_cast<size_t>(t0 + r / g) * c.n_heads + kvh * g + r % g) * hd;
  };
  int r0 = 0;
  if (p.isa == Isa::Avx512 && hd % 16 == 0)
    for (; r0 + 16 <= rows; r0 += 16) {
      const float* src[16];
      for (int i = 0; i < 16; ++i) src[i] = q_row(r0 + i);
      rows_to_columns16(src, hd, qt + r0, ld);
    }
  for (int r = r0; r < rows; ++r)
    for (int d = 0; d < hd; ++d) qt[static_cast<size_t>(d) * ld + r] = q_row(r)[d];
}

// Keeps the scaled scores of the captured rows: row[position] = st * scale (the value the
// softmax step computes), for the keys the row sees. A tile over consecutive positions goes
// 16 rows x 16 keys at a time on AVX-512 (the same products).
void capture_scores(const CallPlan& p, const Column* cols, int n, int t0, int kvh, int ld,
                    const float* valid, const float* st, int rows) {
  const AttentionCall& c = *p.c;
  const int g = p.group;
  auto row_of = [&](int r) { return capture_row(c, t0 + r / g, kvh * g + r % g); };
  int r0 = 0, n16 = 0;
  auto seen = [&](int j, int r) {
    return !valid || valid[static_cast<size_t>(j) * ld + r] != 0.0f;
  };
  if (p.isa == Isa::Avx512 && n >= 16 && cols[n - 1].pos - cols[0].pos == n - 1) {
    n16 = n / 16 * 16;
    for (; r0 + 16 <= rows; r0 += 16) {
      float* dst[16];
      for (int i = 0; i < 16; ++i) {
        float* row = row_of(r0 + i);
        dst[i] = row ? row + cols[0].pos : nullptr;
      }
      columns_to_rows16(st + r0, valid ? valid + r0 : nullptr, ld, n16, c.scale, dst);
    }
  }
  // Row by row: the rows after r0, and the keys past n16 of the rows before.
  for (int r = 0; r < rows; ++r)
    if (float* row = row_of(r))
      for (int j = r < r0 ? n16 : 0; j < n; ++j)
        if (seen(j, r)) row[cols[j].pos] = st[static_cast<size_t>(j) * ld + r] * c.scale;
}

// Rows of queries [t0, t1) × the query heads of KV head kvh, over all their visible keys.
void run_item(const CallPlan& p, int t0, int t1, int kvh, Scratch& w) {
  const AttentionCall& c = *p.c;
  const int hd = c.head_dim, g = p.group, rows = (t1 - t0) * g;
  const int ld = (rows + tile::kRowAlign - 1) / tile::kRowAlign * tile::kRowAlign;
  const size_t off = static_cast<size_t>(kvh) * hd;
  block_columns(p, t0, t1, w.cols);
  w.qt.assign(static_cast<size_t>(hd) * ld, 0.0f);
  transpose_queries(p, t0, kvh, rows, ld, w.qt.data());
  w.k.resize(kKeys);
  w.v.resize(kKeys);
  w.st.resize(static_cast<size_t>(kKeys) * ld);
  w.valid.resize(static_cast<size_t>(kKeys) * ld);
  w.o.assign(static_cast<size_t>(rows) * hd, 0.0f);
  w.m.assign(ld, -FLT_MAX);
  w.l.assign(ld, 0.0f);
  w.alpha.assign(ld, 1.0f);
  for (int r = 0; r < rows; ++r)
    if (float* row = capture_row(c, t0 + r / g, kvh * g + r % g)) {
      const int32_t q = c.q_pos[t0 + r / g], lo = first_seen(c, q);
      if (!c.rows_from_first_key) std::fill(row, row + lo, 0.0f);
      std::fill(row + lo, row + q + 1, -INFINITY);
    }
  const int n_cols = static_cast<int>(w.cols.size());
  for (int j0 = 0; j0 < n_cols; j0 += kKeys) {
    const int n = std::min(kKeys, n_cols - j0);
    const Column* cols = w.cols.data() + j0;
    for (int j = 0; j < n; ++j) {
      w.k[j] = cols[j].k + off;
      w.v[j] = cols[j].v + off;
    }
    tile::scores(p.isa, w.qt.data(), ld, w.k.data(), n, hd, w.st.data());
    const bool masked = tile_mask(p, t0, t1, cols, n, ld, w.valid.data());
    if (c.prob_rows)
      capture_scores(p, cols, n, t0, kvh, ld, masked ? w.valid.data() : nullptr, w.st.data(), rows);
    tile::softmax(p.isa, w.st.data(), ld, rows, n, c.scale, masked ? w.valid.data() : nullptr,
                  w.m.data(), w.l.data(), w.alpha.data());
    tile::pv(p.isa, w.st.data(), ld, rows, w.v.data(), n, hd, w.alpha.data(), w.o.data());
  }
  for (int r = 0; r < rows; ++r) {
    const int t = t0 + r / g, h = kvh * g + r % g;
    const attn::OnlineSoftmax st{w.m[r], w.l[r]};
    attn::finish_row(st, w.o.data() + static_cast<size_t>(r) * hd, hd,
                     c.out + (static_cast<size_t>(t) * c.n_heads + h) * hd);
    if (float* row = capture_row(c, t, h)) {
      const float inv = attn::inverse_sum(st);
      const int lo = first_seen(c, c.q_pos[t]);
      tile::probabilities(p.isa, row + lo, c.q_pos[t] + 1 - lo, st.m, inv);
    }
  }
}

}  // namespace

void cpu_attention_prefill(const AttentionCall& c, int n_threads) {
  const CallPlan p = plan_call(c);
  const int n_items = p.n_blocks * c.n_kv_heads;
  const long work = static_cast<long>(c.n_q) * c.n_heads * (c.n_slots + c.n_q) * c.head_dim;
  // Later blocks see more keys under a causal mask: they go first, and a thread takes the
  // next item when it is done, so the threads finish together.
  const std::function<void(int)> item = [&](int i) {
    thread_local Scratch scratch;
    const int b = p.n_blocks - 1 - i / c.n_kv_heads;
    const int t0 = b * p.bq;
    run_item(p, t0, std::min(c.n_q, t0 + p.bq), i % c.n_kv_heads, scratch);
  };
  const bool split = work >= 200000;  // below, one thread does it sooner than a hand-off
  if (c.parallel && n_threads > 1 && split)
    (*c.parallel)(n_items, item);  // the lender's threads (and their scratch) are awake
  else
    parallel_for_dynamic(n_items, split ? n_threads : 1, item);
}

}  // namespace core
