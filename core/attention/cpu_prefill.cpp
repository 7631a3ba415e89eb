#include "core/attention/cpu_prefill.h"

#include <cblas.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "core/attention/attn_math.h"
#include "core/attention/fast_exp.h"
#include "core/attention/parallel_for.h"

namespace core {

namespace {

// Scores of all heads for one block stay under this many floats (32 MB) when keys are many.
constexpr long kScoreBudget = 8L << 20;
constexpr int kMaxBlock = 64;
constexpr int kMinBlock = 16;

// Columns of one query block [t0, t1): the cache slots some query sees (gathered into
// s.k / s.v, so empty slots are never read), then the fresh keys [*jlo, *jhi).
int block_columns(const AttentionCall& c, int t0, int t1, PrefillScratch& s, int* jlo, int* jhi) {
  const int kvd = c.n_kv_heads * c.head_dim;
  auto seen = [&](int32_t kp) {
    if (kp < 0) return false;
    for (int t = t0; t < t1; ++t)
      if (attn::visible(c.q_pos[t], kp, c.mask)) return true;
    return false;
  };
  s.sel_slot.clear();
  s.col_pos.clear();
  for (int slot = 0; slot < c.n_slots; ++slot)
    if (seen(c.slot_pos[slot])) s.sel_slot.push_back(slot);
  // In position order, so a ring and a growing cache holding the same keys give the same
  // columns and hence the same sums, whatever slots the ring put them in.
  std::sort(s.sel_slot.begin(), s.sel_slot.end(),
            [&](int a, int b) { return c.slot_pos[a] < c.slot_pos[b]; });
  for (int slot : s.sel_slot) s.col_pos.push_back(c.slot_pos[slot]);
  const int n_sel = static_cast<int>(s.sel_slot.size());
  s.k.resize(static_cast<size_t>(n_sel) * kvd);
  s.v.resize(static_cast<size_t>(n_sel) * kvd);
  for (int i = 0; i < n_sel; ++i) {
    const size_t from = static_cast<size_t>(s.sel_slot[i]) * kvd;
    std::copy(c.k_cache + from, c.k_cache + from + kvd, s.k.data() + static_cast<size_t>(i) * kvd);
    std::copy(c.v_cache + from, c.v_cache + from + kvd, s.v.data() + static_cast<size_t>(i) * kvd);
  }
  *jlo = c.n_q;
  *jhi = 0;
  for (int j = 0; j < c.n_q; ++j)
    if (seen(c.q_pos[j])) {
      *jlo = std::min(*jlo, j);
      *jhi = j + 1;
    }
  if (*jhi < *jlo) *jhi = *jlo;
  for (int j = *jlo; j < *jhi; ++j) s.col_pos.push_back(c.q_pos[j]);
  const int n_cols = static_cast<int>(s.col_pos.size());
  s.valid.resize(static_cast<size_t>(t1 - t0) * n_cols);
  for (int t = t0; t < t1; ++t)
    for (int k = 0; k < n_cols; ++k)
      s.valid[static_cast<size_t>(t - t0) * n_cols + k] =
          s.col_pos[k] >= 0 && attn::visible(c.q_pos[t], s.col_pos[k], c.mask) ? 1.0f : 0.0f;
  return n_sel;
}

// Largest sc[k] with valid[k] == 1, or -FLT_MAX or below when there is none (16 partial maxima, so
// the loop vectorizes).
__attribute__((target_clones("avx512f", "avx2", "default"))) float masked_max(const float* sc,
                                                                              const float* valid,
                                                                              int n) {
  float part[16];
  for (int j = 0; j < 16; ++j) part[j] = -INFINITY;
  int k = 0;
  for (; k + 16 <= n; k += 16)
    for (int j = 0; j < 16; ++j) {
      // Branch-free select: sc for a visible key, -FLT_MAX for a masked one.
      const float x = valid[k + j] * sc[k + j] + (valid[k + j] - 1.0f) * FLT_MAX;
      part[j] = x > part[j] ? x : part[j];
    }
  float m = -INFINITY;
  for (int j = 0; j < 16; ++j) m = part[j] > m ? part[j] : m;
  for (; k < n; ++k)
    if (valid[k] != 0.0f && sc[k] > m) m = sc[k];
  return m;
}

// sc[k] = e^(sc[k] - m) * valid[k] (valid is 1 or 0) in place; returns their sum (16 partial sums,
// so the loop vectorizes). The loader picks the widest clone the CPU supports.
__attribute__((target_clones("avx512f", "avx2", "default"))) float exp_masked(float* sc,
                                                                              const float* valid,
                                                                              float m, int n) {
  float part[16] = {};
  int k = 0;
  for (; k + 16 <= n; k += 16)
    for (int j = 0; j < 16; ++j) {
      // exp_poly is finite for any finite or infinite input, so masking by a product is exact.
      const float p = attn::exp_poly(sc[k + j] - m) * valid[k + j];
      sc[k + j] = p;
      part[j] += p;
    }
  float l = 0.0f;
  for (int j = 0; j < 16; ++j) l += part[j];
  for (; k < n; ++k) {
    sc[k] = attn::exp_poly(sc[k] - m) * valid[k];
    l += sc[k];
  }
  return l;
}

// Masked softmax of one row of scores in place; returns 1 / sum (0 when no key is visible)
// and writes the captured probabilities when row is set.
float softmax_row(float* sc, const float* valid, const int32_t* col_pos, int n_cols, int32_t qp,
                  float* row) {
  const float m = masked_max(sc, valid, n_cols);
  const attn::OnlineSoftmax st{m, exp_masked(sc, valid, m, n_cols)};
  const float inv = attn::inverse_sum(st);
  if (row) {
    for (int k = 0; k <= qp; ++k) row[k] = 0.0f;
    for (int k = 0; k < n_cols; ++k)
      if (valid[k] != 0.0f) row[col_pos[k]] = sc[k] * inv;
  }
  return inv;
}

}  // namespace

void cpu_attention_prefill(const AttentionCall& c, int n_threads, PrefillScratch& s) {
  const int hd = c.head_dim, nh = c.n_heads, kvd = c.n_kv_heads * hd, qd = nh * hd;
  const long keys = static_cast<long>(c.n_slots) + c.n_q;
  const int bq = static_cast<int>(
      std::clamp(kScoreBudget / (static_cast<long>(nh) * keys), long{kMinBlock}, long{kMaxBlock}));
  for (int t0 = 0; t0 < c.n_q; t0 += bq) {
    const int t1 = std::min(c.n_q, t0 + bq), nb = t1 - t0;
    int jlo = 0, jhi = 0;
    const int n_sel = block_columns(c, t0, t1, s, &jlo, &jhi);
    const int n_new = jhi - jlo;
    const int n_cols = n_sel + n_new;
    s.scores.resize(static_cast<size_t>(nh) * nb * std::max(n_cols, 1));
    s.inv_sum.resize(static_cast<size_t>(nh) * nb);
    const float* k_new = c.k_new + static_cast<size_t>(jlo) * kvd;
    const float* v_new = c.v_new + static_cast<size_t>(jlo) * kvd;
    for (int h = 0; h < nh && n_cols > 0; ++h) {
      const int kvh = attn::kv_head_of(h, nh, c.n_kv_heads);
      const float* qh = c.q + (static_cast<size_t>(t0) * nh + h) * hd;
      float* sh = s.scores.data() + static_cast<size_t>(h) * nb * n_cols;
      if (n_sel > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, n_sel, hd, c.scale, qh, qd,
                    s.k.data() + kvh * hd, kvd, 0.0f, sh, n_cols);
      if (n_new > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, n_new, hd, c.scale, qh, qd,
                    k_new + kvh * hd, kvd, 0.0f, sh + n_sel, n_cols);
    }
    const long work = static_cast<long>(nh) * nb * n_cols;
    parallel_for(nh * nb, work < 100000 ? 1 : n_threads, [&](int r) {
      const int h = r / nb, i = r % nb;
      float* row = c.prob_rows ? c.prob_rows[(t0 + i) * nh + h] : nullptr;
      s.inv_sum[r] = softmax_row(s.scores.data() + static_cast<size_t>(r) * n_cols,
                                 s.valid.data() + static_cast<size_t>(i) * n_cols, s.col_pos.data(),
                                 n_cols, c.q_pos[t0 + i], row);
    });
    for (int h = 0; h < nh; ++h) {
      const int kvh = attn::kv_head_of(h, nh, c.n_kv_heads);
      const float* ph = s.scores.data() + static_cast<size_t>(h) * nb * n_cols;
      float* oh = c.out + (static_cast<size_t>(t0) * nh + h) * hd;
      if (n_sel > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, hd, n_sel, 1.0f, ph, n_cols,
                    s.v.data() + kvh * hd, kvd, 0.0f, oh, qd);
      if (n_new > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, hd, n_new, 1.0f, ph + n_sel,
                    n_cols, v_new + kvh * hd, kvd, n_sel > 0 ? 1.0f : 0.0f, oh, qd);
      for (int i = 0; i < nb; ++i) {
        float* o = oh + static_cast<size_t>(i) * qd;
        const float inv = n_cols > 0 ? s.inv_sum[static_cast<size_t>(h) * nb + i] : 0.0f;
        for (int d = 0; d < hd; ++d) o[d] = n_cols > 0 ? o[d] * inv : 0.0f;
      }
    }
  }
}

}  // namespace core
