// Per-row attention math written once for the CPU backend and the CUDA kernel (kernels/): mask
// and score a tile of keys, fold it into the online softmax, accumulate P·V, merge partial
// rows, finish the row, normalise captured probabilities, write a cache slot. Plain
// ATTN_HD functions over raw pointers, no allocation, no runtime.
#pragma once

#include "core/attention/spec.h"

namespace attn {

// Eight partial sums: one running sum is a serial chain the compiler may not reorder, eight
// independent ones fill a vector register (prefill spends much of its time here).
ATTN_HD float dot(const float* a, const float* b, int n) {
  float s[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
  float t = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
  for (; i < n; ++i) t += a[i] * b[i];
  return t;
}

// scores[j] = scale * q·k_j for n keys; key j starts at k + j * k_stride. Masked keys are
// marked by the caller with valid[j] == false and get -inf so they add nothing.
ATTN_HD void score_tile(const float* q, const float* k, int k_stride, int n, int head_dim,
                        float scale, const bool* valid, float* scores) {
  for (int j = 0; j < n; ++j)
    scores[j] = valid[j] ? scale * dot(q, k + j * k_stride, head_dim) : -INFINITY;
}

// Folds a tile of scores into the running softmax state and rescales the accumulator
// acc[head_dim] to the new maximum. On return p[j] = exp(s_j - m_new) (0 for masked keys).
ATTN_HD void online_softmax_tile(OnlineSoftmax& st, const float* scores, int n, float* p,
                                 float* acc, int head_dim) {
  int arg = -1;
  for (int j = 0; j < n; ++j)
    if (scores[j] != -INFINITY && (arg < 0 || scores[j] > scores[arg])) arg = j;
  for (int j = 0; j < n; ++j) p[j] = 0.0f;
  if (arg < 0) return;
  // Pushing the tile maximum first moves the running max once; every later push in the tile
  // then has rescale exp(0) == 1, so only the accumulator rescale from this push matters.
  const float rescale = online_softmax_push(st, scores[arg], &p[arg]);
  for (int d = 0; d < head_dim; ++d) acc[d] *= rescale;
  // The rest of the tile is exactly push() with rescale 1, minus its exp(0) per key.
  for (int j = 0; j < n; ++j)
    if (j != arg && scores[j] != -INFINITY) {
      p[j] = expf(scores[j] - st.m);
      st.l += p[j];
    }
}

// acc += sum_j p[j] * v_j; value j starts at v + j * v_stride.
ATTN_HD void accumulate_pv(const float* p, const float* v, int v_stride, int n, int head_dim,
                           float* acc) {
  for (int j = 0; j < n; ++j) {
    if (p[j] == 0.0f) continue;
    const float* vj = v + j * v_stride;
    for (int d = 0; d < head_dim; ++d) acc[d] += p[j] * vj[d];
  }
}

// 1 / l, or 0 for a row that saw no key at all (its output and probabilities are then 0).
ATTN_HD float inverse_sum(const OnlineSoftmax& st) {
  return st.l > 0.0f ? 1.0f / st.l : 0.0f;
}

// out = acc / l, the final normalisation of the online softmax.
ATTN_HD void finish_row(const OnlineSoftmax& st, const float* acc, int head_dim, float* out) {
  const float inv = inverse_sum(st);
  for (int d = 0; d < head_dim; ++d) out[d] = acc[d] * inv;
}

// Merges n partial rows, each an online softmax over a disjoint set of keys (m[i], l[i]), into
// one state. w[i] = exp(m[i] - m) is the factor that rescales partial accumulator i, so the
// merged accumulator is sum_i w[i] * acc_i (flash-decoding's split-K combine).
ATTN_HD OnlineSoftmax merge_softmax(const float* m, const float* l, int n, float* w) {
  OnlineSoftmax st = online_softmax_init();
  for (int i = 0; i < n; ++i) st.m = m[i] > st.m ? m[i] : st.m;
  for (int i = 0; i < n; ++i) {
    w[i] = expf(m[i] - st.m);
    st.l += l[i] * w[i];
  }
  return st;
}

// valid[j]: the key at position kpos[j] exists (>= 0; -1 marks an empty cache slot) and query
// position qp may see it. Returns whether any key of the tile is visible, so callers can skip
// a tile that would add nothing.
ATTN_HD bool mask_tile(int32_t qp, const int32_t* kpos, int n, const MaskSpec& mask, bool* valid) {
  bool any = false;
  for (int j = 0; j < n; ++j) {
    valid[j] = kpos[j] >= 0 && visible(qp, kpos[j], mask);
    any |= valid[j];
  }
  return any;
}

// A captured probability: the raw scaled score kept during the pass, normalised by the row's
// final max and inverse_sum(). Masked keys (score -inf) get exactly 0.
ATTN_HD float final_probability(float score, const OnlineSoftmax& st, float inv_sum) {
  return score == -INFINITY ? 0.0f : expf(score - st.m) * inv_sum;
}

// Writes one position's K and V (all kv heads, n floats each) into cache slot `slot`.
ATTN_HD void write_cache_slot(float* k_cache, float* v_cache, int32_t* slot_pos, int slot,
                              int32_t pos, const float* k, const float* v, int n) {
  for (int i = 0; i < n; ++i) {
    k_cache[slot * n + i] = k[i];
    v_cache[slot * n + i] = v[i];
  }
  slot_pos[slot] = pos;
}

}  // namespace attn
