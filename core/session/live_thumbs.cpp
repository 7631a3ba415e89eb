#include "core/session/live_thumbs.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/attention/parallel_for.h"
#include "core/attention/spec.h"

namespace core {

int thumb_cell_of(int token, int n, int thumb) {
  return n <= 0 ? 0 : static_cast<int>(static_cast<int64_t>(token) * thumb / n);
}

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int kRowsAhead = 8;  // rows of a band prefetched ahead (~the memory latency)

// The cells of n tokens on a thumbnail of T cells a side: each token's cell, and where each
// cell's tokens start (cells are runs of tokens).
struct ThumbGrid {
  int n = 0, T = 1;
  std::vector<int> cell, start;
  ThumbGrid(int n_tokens, int thumb_cells)
      : n(n_tokens), T(std::max(1, std::min(n_tokens, thumb_cells))), cell(n), start(T + 1, n) {
    for (int k = n - 1; k >= 0; --k) start[cell[k] = thumb_cell_of(k, n, T)] = k;
    for (int i = T - 1; i >= 0; --i) start[i] = std::min(start[i], start[i + 1]);
  }
};

// One head's thumbnail: the max of its visible pairs per cell (with b, the pair of largest
// |a - b|), NaN where no pair is visible. mk: a's mask; native_mk: b's (difference mode).
std::vector<float> head_thumb(const ThumbGrid& g, const model::AttentionCapture* pa,
                              const model::AttentionCapture* pb, const attn::MaskSpec& mk,
                              const attn::MaskSpec* native_mk) {
  const int T = g.T;
  // Band masks (both, in difference mode): row q sees keys [q - max_d, q], a run of whole
  // cells but the first, so no key is tested.
  int32_t max_d = 0, native_d = 0;
  const bool band =
      attn::band_of(mk, &max_d) && (!native_mk || attn::band_of(*native_mk, &native_d));
  max_d = std::max(max_d, native_d);
  std::vector<float> m(static_cast<size_t>(T) * T, kNaN);
  const int rows = pa ? std::min(g.n, pa->n) : 0;
  // Keeps the first of equals, like updating cell by cell in key order.
  const auto better = [native_mk](float x, float o) {
    return native_mk ? std::fabs(x) > std::fabs(o) : x > o;
  };
  for (int q = 0; q < rows; ++q) {
    const float* ra = pa->row(q);
    const float* rb = pb && q < pb->n ? pb->row(q) : nullptr;
    float* row_out = m.data() + static_cast<size_t>(g.cell[q]) * T;
    const auto value = [&](int k) { return rb ? ra[k] - rb[k] : ra[k]; };
    if (band) {  // a cell's run of keys: its pick first, then against the cell
      const int k_lo = static_cast<int>(std::max<int64_t>(0, int64_t{q} - max_d));
      // Rows are q * 4 bytes apart: a stride the hardware prefetcher does not follow, so a
      // narrow band waits on memory for every row unless the rows ahead are asked for.
      if (const int qa = q + kRowsAhead; qa < rows)
        for (const float* r : {pa->row(qa), rb && qa < pb->n ? pb->row(qa) : nullptr})
          if (r) __builtin_prefetch(r + std::max<int64_t>(0, int64_t{qa} - max_d));
      for (int ce = g.cell[k_lo]; ce <= g.cell[q]; ++ce) {
        const int k0 = std::max(k_lo, g.start[ce]), k1 = std::min(q, g.start[ce + 1] - 1);
        if (k0 > k1) continue;
        float best = value(k0);
        for (int k = k0 + 1; k <= k1; ++k)
          if (const float x = value(k); better(x, best)) best = x;
        float& o = row_out[ce];
        if (std::isnan(o) || better(best, o)) o = best;
      }
      continue;
    }
    for (int k = 0; k <= q; ++k)
      if (attn::visible(q, k, mk) || (native_mk && attn::visible(q, k, *native_mk))) {
        float& o = row_out[g.cell[k]];
        if (const float x = value(k); std::isnan(o) || better(x, o)) o = x;
      }
  }
  return m;
}

}  // namespace

AttentionThumbs build_attention_thumbs(const LivePass& pass, const LivePass* native,
                                       const model::Config& c, int thumb_cells, int n_threads) {
  AttentionThumbs out;
  out.difference = native && native->capture && native->tokens == pass.tokens;
  if (!out.difference) native = nullptr;
  const ThumbGrid g(static_cast<int>(pass.tokens.size()), thumb_cells);
  out.thumb = g.T;
  out.maps.resize(static_cast<size_t>(c.n_layers) * c.n_heads);
  parallel_for(static_cast<int>(out.maps.size()), n_threads, [&](int i) {
    const int l = i / c.n_heads, h = i % c.n_heads;
    out.maps[i] = head_thumb(g, pass.find(l, h), native ? native->find(l, h) : nullptr,
                             pass.plan[l].mask, native ? &native->plan[l].mask : nullptr);
  });
  float tmax = 1e-6f;
  for (const std::vector<float>& m : out.maps)
    for (float x : m)
      if (!std::isnan(x)) tmax = std::max(tmax, std::fabs(x));
  out.vmin = out.difference ? -tmax : 0;
  out.vmax = out.difference ? tmax : 1;
  return out;
}

std::vector<std::vector<float>> layer_thumbs(const model::Capture& cap, int layer, int n_heads,
                                             int n_tokens, const attn::MaskSpec& mask,
                                             int thumb_cells, int n_threads) {
  const ThumbGrid g(n_tokens, thumb_cells);
  std::vector<std::vector<float>> out(n_heads);
  parallel_for(n_heads, n_threads,
               [&](int h) { out[h] = head_thumb(g, cap.find(layer, h), nullptr, mask, nullptr); });
  return out;
}

}  // namespace core
