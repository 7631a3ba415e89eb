#include "core/views/live_groups.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/views/head_groups.h"
#include "core/views/live_attention.h"

namespace core {
namespace {

LiveGroupRow group_row(const LivePass& p, const model::Config& c, int layer, int thumb,
                       const char* what) {
  LiveGroupRow row;
  row.kv_heads = p.kv_heads;
  row.title = std::string(what) + ": " + std::to_string(p.kv_heads) + " KV head" +
              (p.kv_heads == 1 ? "" : "s") + " (" + attention_kind_label(c.n_heads, p.kv_heads) +
              ")";
  const int n = static_cast<int>(p.tokens.size());
  const attn::MaskSpec& mk = p.plan[layer].mask;
  for (int h = 0; h < c.n_heads; ++h) {
    LiveHeadMap m;
    m.head = h;
    m.kv_head = attn::kv_head_of(h, c.n_heads, p.kv_heads);
    m.values.assign(static_cast<size_t>(thumb) * thumb, std::numeric_limits<float>::quiet_NaN());
    if (const model::AttentionCapture* a = p.capture->find(layer, h))
      for (int q = 0; q < std::min(n, a->n); ++q)
        for (int k = 0; k <= q; ++k) {
          if (!attn::visible(q, k, mk)) continue;
          float& o = m.values[static_cast<size_t>(thumb_cell_of(q, n, thumb)) * thumb +
                              thumb_cell_of(k, n, thumb)];
          if (std::isnan(o) || a->at(q, k) > o) o = a->at(q, k);
        }
    row.maps.push_back(std::move(m));
  }
  std::stable_sort(
      row.maps.begin(), row.maps.end(),
      [](const LiveHeadMap& x, const LiveHeadMap& y) { return x.kv_head < y.kv_head; });
  return row;
}

}  // namespace

LiveGroups build_live_groups(const LiveResult& r, int layer, int thumb_cells) {
  LiveGroups g;
  if (!r.config || !r.pass || !r.pass->capture) return g;
  const model::Config& c = *r.config;
  // A long pass holds the heads of its focus layer only (core/session/live_capture.h).
  g.layer = r.pass->focus_layer >= 0 ? r.pass->focus_layer : std::clamp(layer, 0, c.n_layers - 1);
  g.n = static_cast<int>(r.pass->tokens.size());
  g.n_heads = c.n_heads;
  g.native_kv = c.n_kv_heads;
  g.thumb = std::max(1, std::min(g.n, thumb_cells));
  const LivePass* native = r.native && r.native->capture ? r.native.get() : nullptr;
  g.pooled = r.pass->kv_heads != c.n_kv_heads;
  if (native) g.rows.push_back(group_row(*native, c, g.layer, g.thumb, "native"));
  if (g.pooled) g.rows.push_back(group_row(*r.pass, c, g.layer, g.thumb, "pooled"));
  if (g.pooled && native && native->tokens == r.pass->tokens) {
    double sum = 0;
    int64_t cnt = 0;
    for (int h = 0; h < c.n_heads; ++h) {
      const model::AttentionCapture* a = r.pass->capture->find(g.layer, h);
      const model::AttentionCapture* b = native->capture->find(g.layer, h);
      if (!a || !b) continue;
      for (int q = 0; q < std::min(a->n, b->n); ++q)
        for (int k = 0; k <= q; ++k) {
          sum += std::fabs(a->at(q, k) - b->at(q, k));
          ++cnt;
        }
    }
    g.mean_abs_change = cnt ? sum / cnt : 0;
  }
  // A perplexity that also ran a sparse pattern is not pooling's alone (the live attention
  // view quotes it).
  const bool sparse = r.pass->variant.sparse_local > 0;
  if (r.perplexity && r.perplexity->kv_heads == r.pass->kv_heads && !sparse) {
    g.has_perplexity = true;
    g.ppl_native = r.perplexity->native;
    g.ppl_pooled = r.perplexity->variant;
    g.ppl_tokens = r.perplexity->n_tokens;
    g.ppl_text = r.perplexity->text_path;
  }
  char buf[256];
  if (!g.pooled) {
    std::snprintf(buf, sizeof buf,
                  "%d query heads share %d K/V heads (%d per group): heads in a group read the "
                  "same keys and values but ask different queries",
                  c.n_heads, c.n_kv_heads, c.n_heads / c.n_kv_heads);
  } else if (g.has_perplexity) {
    std::snprintf(buf, sizeof buf,
                  "pooling %d -> %d KV heads (mean of the K/V weights, no uptraining): perplexity "
                  "%.2f -> %.2f (%+.0f%%) on %d tokens; mean |change| of the layer's "
                  "probabilities %.4f",
                  c.n_kv_heads, r.pass->kv_heads, g.ppl_native, g.ppl_pooled,
                  100.0 * (g.ppl_pooled / g.ppl_native - 1.0), g.ppl_tokens, g.mean_abs_change);
  } else {
    std::snprintf(buf, sizeof buf,
                  "pooling %d -> %d KV heads: mean |change| of the layer's probabilities %.4f "
                  "(%s)",
                  c.n_kv_heads, r.pass->kv_heads, g.mean_abs_change,
                  sparse ? "with the sparse pattern: its perplexity is in the live attention view"
                         : "perplexity pending");
  }
  g.verdict = buf;
  return g;
}

}  // namespace core
