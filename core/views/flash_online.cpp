#include "core/views/flash_online.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/attention/attn_math.h"
#include "core/views/flash_tiling.h"

namespace core {

void hash_fill(std::vector<float>& out, uint32_t seed, int64_t first) {
  for (size_t i = 0; i < out.size(); ++i) {
    const uint32_t idx = static_cast<uint32_t>(first + static_cast<int64_t>(i));
    const uint32_t h = attn::hash_u32(seed * 0x9e3779b9U ^ attn::hash_u32(idx));
    out[i] = static_cast<float>(h >> 8) / static_cast<float>(1 << 23) - 1.0f;
  }
}

OnlineSoftmaxTrace trace_online_softmax(const float* q, const KvRows& kv, int d, float scale,
                                        const attn::MaskSpec& mask, int query, int bc, int br) {
  OnlineSoftmaxTrace t;
  t.query = query;
  t.block_cols = bc = std::max(1, bc);
  t.head_dim = d;
  br = std::max(1, br);
  t.row_block_lo = query / br * br;
  t.row_block_hi = t.row_block_lo + br;
  const int n = query + 1;
  t.scores.assign(n, -INFINITY);
  attn::OnlineSoftmax st = attn::online_softmax_init();
  std::vector<float> acc(d, 0.0f), k(static_cast<size_t>(bc) * d), v(k.size());
  std::vector<int32_t> pos(bc);
  std::vector<float> p(bc), sc(bc);
  std::unique_ptr<bool[]> valid(new bool[bc]);
  for (int k0 = 0; k0 < n; k0 += bc) {
    const int m = std::min(bc, n - k0);
    OnlineStep s;
    s.k0 = k0;
    s.k1 = k0 + m;
    for (int j = 0; j < m; ++j) pos[j] = k0 + j;
    kv(k0, m, k.data(), v.data());
    attn::mask_tile(query, pos.data(), m, mask, valid.get());
    attn::score_tile(q, k.data(), d, m, d, scale, valid.get(), sc.data());
    s.tile_max = -INFINITY;
    for (int j = 0; j < m; ++j) {
      t.scores[k0 + j] = sc[j];
      s.visible += valid[j] ? 1 : 0;
      if (valid[j]) s.tile_max = std::max(s.tile_max, sc[j]);
    }
    const float m_old = st.m;
    attn::online_softmax_tile(st, sc.data(), m, p.data(), acc.data(), d);
    attn::accumulate_pv(p.data(), v.data(), d, m, d, acc.data());
    s.rescale = s.visible > 0 ? std::exp(m_old - st.m) : 1.0f;
    s.m = st.m;
    s.l = st.l;
    s.acc = acc;
    t.steps.push_back(std::move(s));
  }
  t.out_online.assign(d, 0.0f);
  attn::finish_row(st, acc.data(), d, t.out_online.data());
  // The ordinary softmax, in double: max, exponentials, sum, then P·V.
  double mx = -INFINITY;
  for (int j = 0; j < n; ++j)
    if (attn::visible(query, j, mask)) mx = std::max(mx, static_cast<double>(t.scores[j]));
  t.probs.assign(n, 0.0);
  double sum = 0;
  for (int j = 0; j < n; ++j)
    if (attn::visible(query, j, mask)) sum += t.probs[j] = std::exp(t.scores[j] - mx);
  t.out_ordinary.assign(d, 0.0);
  for (int k0 = 0; k0 < n; k0 += bc) {
    const int m = std::min(bc, n - k0);
    kv(k0, m, k.data(), v.data());
    for (int j = k0; j < k0 + m; ++j) {
      if (sum > 0) t.probs[j] /= sum;
      for (int i = 0; i < d; ++i)
        t.out_ordinary[i] += t.probs[j] * v[static_cast<size_t>(j - k0) * d + i];
    }
  }
  for (int i = 0; i < d; ++i)
    t.max_abs_diff = std::max(t.max_abs_diff, std::fabs(t.out_online[i] - t.out_ordinary[i]));
  return t;
}

OnlineSoftmaxTrace build_online_trace(const Scene& s) {
  std::vector<int32_t> ends;
  const attn::MaskSpec spec = mask_spec(s, ends);
  const FlashBlockSizes b = flash_block_sizes(s.flash.sram_bytes, dtype_bytes(s.dtype), s.head_dim);
  const int d = s.head_dim;
  std::vector<float> q(d), row(static_cast<size_t>(d));
  hash_fill(q, 1, 0);
  const KvRows kv = [d](int k0, int m, float* k, float* v) {
    std::vector<float> buf(static_cast<size_t>(m) * d);
    hash_fill(buf, 2, static_cast<int64_t>(k0) * d);
    std::copy(buf.begin(), buf.end(), k);
    hash_fill(buf, 3, static_cast<int64_t>(k0) * d);
    std::copy(buf.begin(), buf.end(), v);
  };
  OnlineSoftmaxTrace t =
      trace_online_softmax(q.data(), kv, d, 1.0f / std::sqrt(static_cast<float>(d)), spec, s.query,
                           b.block_cols, b.block_rows);
  t.source = "synthetic Q, K, V (hashed values in [-1, 1))";
  return t;
}

OnlineSoftmaxTrace trace_model_row(const LiveHeadVectors& hv, const Scene& s,
                                   const std::string& model_name) {
  const model::HeadVectors& v = hv.vectors;
  const int d = v.head_dim, n = v.n;
  const int query = std::clamp(s.query, 0, std::max(0, n - 1));
  const FlashBlockSizes b = flash_block_sizes(s.flash.sram_bytes, dtype_bytes(s.dtype), d);
  const KvRows kv = [&v, d](int k0, int m, float* k, float* vo) {
    const size_t a = static_cast<size_t>(k0) * d, e = a + static_cast<size_t>(m) * d;
    std::copy(v.k.begin() + a, v.k.begin() + e, k);
    std::copy(v.v.begin() + a, v.v.begin() + e, vo);
  };
  OnlineSoftmaxTrace t =
      trace_online_softmax(v.q.data() + static_cast<size_t>(query) * d, kv, d, hv.scale,
                           hv.layer_mask, query, b.block_cols, b.block_rows);
  t.from_model = true;
  t.source = model_name + " layer " + std::to_string(v.layer) + ", head " + std::to_string(v.head) +
             " (K/V head " + std::to_string(v.kv_head) + "): its Q, K, V after RoPE on the " +
             std::to_string(n) + "-token prompt";
  if (query != s.query)
    t.source += "; row " + std::to_string(query) + " (query " + std::to_string(s.query) +
                " is past the prompt)";
  if (hv.attention.n > query) {
    const float* row = hv.attention.row(query);
    t.max_prob_diff_model = 0;
    for (int j = 0; j <= query; ++j)
      t.max_prob_diff_model = std::max(t.max_prob_diff_model, std::fabs(t.probs[j] - row[j]));
  }
  return t;
}

}  // namespace core
