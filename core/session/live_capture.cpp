#include "core/session/live_capture.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/attention/parallel_for.h"

namespace core {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Keys [lo, q] are the visible ones of a banded row; other masks test key by key.
float max_or_nan(float a, float b) {
  return std::isnan(a) || b > a ? b : a;
}

}  // namespace

LongCapture::LongCapture(int n_tokens, const model::Config& c,
                         const std::vector<model::LayerPlan>& plan, bool with_mean)
    : n(n_tokens), n_layers(c.n_layers), n_heads(c.n_heads) {
  nb = (n + kLongThumbBlock - 1) / kLongThumbBlock;
  for (const model::LayerPlan& p : plan) masks.push_back(p.mask);
  for (int l = 0; with_mean && l < n_layers; ++l)
    mean.push_back({l, kLayerMean, n, std::vector<float>(static_cast<size_t>(n) * (n + 1) / 2)});
  blocks.assign(static_cast<size_t>(n_layers) * n_heads,
                std::vector<float>(static_cast<size_t>(nb) * nb, kNaN));
}

void LongCapture::add_rows(int layer, const int32_t* pos, int n_q, float* const* rows,
                           int n_threads) {
  const attn::MaskSpec& m = masks[layer];
  const float w = 1.0f / static_cast<float>(n_heads);
  // The mean: one row per query, heads summed in order (the same sums whatever the threads).
  // Under a band mask the keys before the first one seen are 0 (and the rows may not hold
  // them: RunOptions::on_rows).
  parallel_for(mean.empty() ? 0 : n_q, n_threads, [&](int t) {
    const int q = pos[t], lo = std::max(0, attn::band_first_key(m, q));
    float* out = mean[layer].p.data() + static_cast<size_t>(q) * (q + 1) / 2;
    std::fill(out, out + q + 1, 0.0f);
    for (int h = 0; h < n_heads; ++h) {
      const float* r = rows[t * n_heads + h];
      for (int k = lo; k <= q; ++k) out[k] += w * r[k];
    }
  });
  // Block maxima over the visible keys: one head per task, so no two tasks share a block.
  parallel_for(n_heads, n_threads, [&](int h) {
    std::vector<float>& b = blocks[static_cast<size_t>(layer) * n_heads + h];
    for (int t = 0; t < n_q; ++t) {
      const int q = pos[t];
      const float* r = rows[t * n_heads + h];
      float* brow = b.data() + static_cast<size_t>(q / kLongThumbBlock) * nb;
      const int lo = attn::band_first_key(m, q);
      if (lo >= 0) {
        for (int c0 = lo / kLongThumbBlock * kLongThumbBlock; c0 <= q; c0 += kLongThumbBlock) {
          const int k0 = std::max(lo, c0), k1 = std::min(q + 1, c0 + kLongThumbBlock);
          float mx = r[k0];
          for (int k = k0 + 1; k < k1; ++k) mx = std::max(mx, r[k]);
          float& cell = brow[c0 / kLongThumbBlock];
          cell = max_or_nan(cell, mx);
        }
      } else {
        for (int k = 0; k <= q; ++k)
          if (attn::visible(q, k, m)) {
            float& cell = brow[k / kLongThumbBlock];
            cell = max_or_nan(cell, r[k]);
          }
      }
    }
  });
}

void LongCapture::keep_rows(const model::Capture& prev_cap,
                            const std::vector<std::vector<float>>& prev_blocks, int prev_nb,
                            int keep) {
  keep = std::min(keep, n);
  const size_t tri = static_cast<size_t>(keep) * (keep + 1) / 2;
  for (model::AttentionCapture& m : mean) {
    const model::AttentionCapture* p = prev_cap.find(m.layer, kLayerMean);
    if (p && p->n >= keep) std::copy(p->p.begin(), p->p.begin() + tri, m.p.begin());
  }
  const int kept_blocks = keep / kLongThumbBlock;  // rows q < keep only see keys k < keep
  for (size_t i = 0; i < blocks.size() && i < prev_blocks.size(); ++i)
    for (int br = 0; br < kept_blocks && br < prev_nb; ++br)
      std::copy(prev_blocks[i].begin() + static_cast<size_t>(br) * prev_nb,
                prev_blocks[i].begin() + static_cast<size_t>(br) * prev_nb + kept_blocks,
                blocks[i].begin() + static_cast<size_t>(br) * nb);
}

AttentionThumbs LongCapture::thumbs(int cells) const {
  AttentionThumbs out;
  const int T = std::max(1, std::min(nb, cells));
  out.thumb = T;
  for (const std::vector<float>& b : blocks) {
    std::vector<float> m(static_cast<size_t>(T) * T, kNaN);
    for (int r = 0; r < nb; ++r)
      for (int c = 0; c <= r; ++c) {
        const float x = b[static_cast<size_t>(r) * nb + c];
        if (std::isnan(x)) continue;
        float& o = m[static_cast<size_t>(r * T / nb) * T + c * T / nb];
        o = max_or_nan(o, x);
      }
    out.maps.push_back(std::move(m));
  }
  out.vmin = 0;
  out.vmax = 1;
  return out;
}

}  // namespace core
