#include "core/session/live_thumbs.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/attention/spec.h"

namespace core {

int thumb_cell_of(int token, int n, int thumb) {
  return n <= 0 ? 0 : static_cast<int>(static_cast<int64_t>(token) * thumb / n);
}

AttentionThumbs build_attention_thumbs(const LivePass& pass, const LivePass* native,
                                       const model::Config& c, int thumb_cells) {
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  AttentionThumbs out;
  const int n = static_cast<int>(pass.tokens.size());
  out.difference = native && native->capture && native->tokens == pass.tokens;
  if (!out.difference) native = nullptr;
  out.thumb = std::max(1, std::min(n, thumb_cells));
  const int T = out.thumb;
  // Each token's cell, and where each cell's tokens start (cells are runs of tokens).
  std::vector<int> cell(n), start(T + 1, n);
  for (int k = n - 1; k >= 0; --k) start[cell[k] = thumb_cell_of(k, n, T)] = k;
  for (int i = T - 1; i >= 0; --i) start[i] = std::min(start[i], start[i + 1]);
  float tmax = 1e-6f;
  for (int l = 0; l < c.n_layers; ++l)
    for (int h = 0; h < c.n_heads; ++h) {
      const model::AttentionCapture* pa = pass.find(l, h);
      const model::AttentionCapture* pb = native ? native->capture->find(l, h) : nullptr;
      const attn::MaskSpec& mk = pass.plan[l].mask;
      // Band masks (both, in difference mode): row q sees keys [q - max_d, q], a run of
      // whole cells but the first, so no key is tested (the same updates in the same order).
      int32_t max_d = 0, native_d = 0;
      const bool band =
          attn::band_of(mk, &max_d) && (!native || attn::band_of(native->plan[l].mask, &native_d));
      max_d = std::max(max_d, native_d);
      std::vector<float> m(static_cast<size_t>(T) * T, kNaN);
      const int rows = pa ? std::min(n, pa->n) : 0;
      for (int q = 0; q < rows; ++q) {
        const float* ra = pa->row(q);
        const float* rb = pb && q < pb->n ? pb->row(q) : nullptr;
        float* row_out = m.data() + static_cast<size_t>(cell[q]) * T;
        const auto update = [&](float& o, int k) {
          const float x = rb ? ra[k] - rb[k] : ra[k];
          if (std::isnan(o) || (native ? std::fabs(x) > std::fabs(o) : x > o)) o = x;
        };
        if (band) {
          const int k_lo = static_cast<int>(std::max<int64_t>(0, int64_t{q} - max_d));
          for (int ce = cell[k_lo]; ce <= cell[q]; ++ce) {
            float& o = row_out[ce];
            for (int k = std::max(k_lo, start[ce]); k <= std::min(q, start[ce + 1] - 1); ++k)
              update(o, k);
          }
          continue;
        }
        for (int k = 0; k <= q; ++k)
          if (attn::visible(q, k, mk) || (native && attn::visible(q, k, native->plan[l].mask)))
            update(row_out[cell[k]], k);
      }
      for (float x : m)
        if (!std::isnan(x)) tmax = std::max(tmax, std::fabs(x));
      out.maps.push_back(std::move(m));
    }
  out.vmin = out.difference ? -tmax : 0;
  out.vmax = out.difference ? tmax : 1;
  return out;
}

}  // namespace core
