#include "core/views/live_attention.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/attention/window_text.h"
#include "core/session/live_capture.h"
#include "core/session/live_draft.h"

namespace core {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// The captured maps one (layer, aggregate) reads: one head, the layer's heads (mean or max),
// or a long pass's per-layer mean.
struct MapSource {
  std::vector<const model::AttentionCapture*> heads;
  bool max = false;
  float w = 1.0f;
  float at(int q, int k) const {
    float v = 0;
    bool first = true;
    for (const model::AttentionCapture* a : heads) {
      const float x = q < a->n ? a->at(q, k) : 0.0f;
      v = max ? (first ? x : std::max(v, x)) : v + w * x;
      first = false;
    }
    return v;
  }
};

MapSource map_source(const model::Capture& cap, int layer, int head, int n_heads,
                     LiveAggregate agg) {
  MapSource s;
  if (agg == LiveAggregate::Head) {
    if (const model::AttentionCapture* a = cap.find(layer, head)) s.heads.push_back(a);
    return s;
  }
  for (int h = 0; h < n_heads; ++h)
    if (const model::AttentionCapture* a = cap.find(layer, h)) s.heads.push_back(a);
  s.max = agg == LiveAggregate::Max;
  if (s.max || static_cast<int>(s.heads.size()) == n_heads) {
    s.w = 1.0f / n_heads;
    return s;
  }
  s.heads.clear();  // a long pass keeps only the mean of a layer outside its focus
  if (const model::AttentionCapture* m = cap.find(layer, kLayerMean)) s.heads.push_back(m);
  return s;
}

// A running pass's finished heads of one layer as a capture (empty if the layer is not done).
std::shared_ptr<const model::Capture> layer_capture(const LivePass& p, int layer) {
  auto cap = std::make_shared<model::Capture>();
  if (layer < static_cast<int>(p.layer_parts.size()) && p.layer_parts[layer])
    cap->attention = *p.layer_parts[layer];
  return cap;
}

// The layer a view of a long pass can show: its focus (other layers hold no heads).
int shown_layer(const LivePass& p, int layer) {
  return p.focus_layer >= 0 ? p.focus_layer : layer;
}

}  // namespace

// Fills a.values (cells x cells, block-pooled) from a.capture (and a.native_capture).
void fill_live_attention_values(LiveAttention& a, const attn::MaskSpec& mk,
                                const attn::MaskSpec* native_mk);

const char* live_aggregate_name(LiveAggregate a) {
  switch (a) {
    case LiveAggregate::Head:
      return "head";
    case LiveAggregate::Mean:
      return "mean";
    case LiveAggregate::Max:
      return "max";
  }
  return "head";
}

std::string variant_label(const ModelVariant& v, const model::Config& c) {
  std::string s;
  if (v.window > 0) {
    s += "SWA W=" + std::to_string(v.window) + " (" + attn::convention_phrase(v.window_convention) +
         ")";
    if (!v.window_layers.empty()) s += " on " + std::to_string(v.window_layers.size()) + " layers";
  }
  if (v.kv_heads > 0 && v.kv_heads != c.n_kv_heads) {
    if (!s.empty()) s += ", ";
    s += "KV heads " + std::to_string(c.n_kv_heads) + " -> " + std::to_string(v.kv_heads) +
         " (mean-pooled)";
  }
  if (v.chunk > 0) {
    if (!s.empty()) s += ", ";
    s += "chunked prefill C=" + std::to_string(v.chunk);
  }
  if (!v.segments.empty()) {
    if (!s.empty()) s += ", ";
    s += std::to_string(v.segments.size()) + " packed prompts";
  }
  if (v.sparse_local > 0) {
    if (!s.empty()) s += ", ";
    s += "sparse: " + std::to_string(v.sparse_global) + " global, band " +
         std::to_string(v.sparse_local) + ", " + std::to_string(v.sparse_random) +
         " random (seed " + std::to_string(v.sparse_seed) + ")";
  }
  return s.empty() ? "native" : s;
}

LiveAttention build_live_attention(const LivePass& pass, const LivePass* native,
                                   const model::Config& c, const LiveAttentionOptions& o) {
  LiveAttention a;
  const int n = static_cast<int>(pass.tokens.size());
  a.n = n;
  a.n_layers = c.n_layers;
  a.n_heads = c.n_heads;
  a.kv_heads = pass.kv_heads;
  a.layer = shown_layer(pass, std::clamp(o.layer, 0, c.n_layers - 1));
  a.head = std::clamp(o.head, 0, c.n_heads - 1);
  a.aggregate = o.aggregate;
  a.difference = o.difference && native && native->capture && native->tokens == pass.tokens &&
                 native->focus_layer == pass.focus_layer;
  a.labels = pass.labels;
  a.mask = pass.plan[a.layer].mask;
  a.segment_ends = pass.plan[a.layer].segment_ends;  // keeps a.mask.segment_ends valid
  a.setting = variant_label(pass.variant, c);
  a.precision = pass.precision;
  a.draft_why = draft_choice_text(pass.draft_choice);
  a.layers_done = pass.capture ? c.n_layers : pass.layers_done;  // a finished pass has all
  if (!pass.has_attention() || n == 0) return a;
  a.capture = pass.capture ? pass.capture : layer_capture(pass, a.layer);
  if (a.difference) a.native_capture = native->capture;
  a.block = (n + kLiveMapMaxCells - 1) / kLiveMapMaxCells;
  a.cells = (n + a.block - 1) / a.block;
  fill_live_attention_values(a, pass.plan[a.layer].mask,
                             a.difference ? &native->plan[a.layer].mask : nullptr);
  // Not computed yet, or a pass in flight that keeps another layer's heads: empty, not zero.
  const bool held = pass.capture || (a.layer < static_cast<int>(pass.layer_parts.size()) &&
                                     pass.layer_parts[a.layer]);
  if (a.layer >= a.layers_done || !held) std::fill(a.values.begin(), a.values.end(), kNaN);
  float lo = 0, hi = 0;
  for (float x : a.values)
    if (!std::isnan(x)) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  if (a.difference) {
    const float m = std::max({std::fabs(lo), std::fabs(hi), 1e-6f});
    a.vmin = -m;
    a.vmax = m;
  } else {
    a.vmin = 0;
    a.vmax = 1;
  }

  const int t = std::max(1, std::min(n, o.thumb_cells));
  AttentionThumbs own;
  const AttentionThumbs* th = o.thumbs;
  if (pass.focus_layer >= 0 && pass.thumbs) {
    th = pass.thumbs.get();  // a long pass brings its own (block maxima of this setting)
  } else if (!th || th->thumb != t || th->difference != a.difference) {
    own = build_attention_thumbs(pass, a.difference ? native : nullptr, c, o.thumb_cells);
    th = &own;
  }
  a.thumb = th->thumb;
  a.thumbs = th->maps;
  a.thumb_vmin = th->vmin;
  a.thumb_vmax = th->vmax;
  return a;
}

void fill_live_attention_values(LiveAttention& a, const attn::MaskSpec& mk,
                                const attn::MaskSpec* native_mk) {
  const int n = a.n, B = a.block, C = a.cells;
  const int nh = a.n_heads;
  const MapSource src = map_source(*a.capture, a.layer, a.head, nh, a.aggregate);
  MapSource nat;
  if (a.native_capture) nat = map_source(*a.native_capture, a.layer, a.head, nh, a.aggregate);
  a.values.assign(static_cast<size_t>(C) * C, kNaN);
  for (int q = 0; q < n; ++q) {
    float* out = a.values.data() + static_cast<size_t>(q / B) * C;
    for (int k = 0; k <= q; ++k) {
      if (!attn::visible(q, k, mk) && !(native_mk && attn::visible(q, k, *native_mk))) continue;
      const float x = a.native_capture ? src.at(q, k) - nat.at(q, k) : src.at(q, k);
      float& o = out[k / B];
      if (std::isnan(o) || (a.native_capture ? std::fabs(x) > std::fabs(o) : x > o)) o = x;
    }
  }
}

float live_attention_value(const LiveAttention& a, int q, int k) {
  if (q < 0 || k < 0 || q >= a.n || k >= a.n) return kNaN;
  if (a.block == 1) return a.values[static_cast<size_t>(q) * a.cells + k];
  if (k > q || !a.capture || a.layer >= a.layers_done) return kNaN;
  const attn::Reason r = attn::visibility(q, k, a.mask);
  if (r != attn::Reason::Visible && !a.native_capture) return kNaN;
  const float x = map_source(*a.capture, a.layer, a.head, a.n_heads, a.aggregate).at(q, k);
  if (!a.native_capture) return x;
  return x - map_source(*a.native_capture, a.layer, a.head, a.n_heads, a.aggregate).at(q, k);
}

std::string describe_live_attention_cell(const LiveAttention& a, int q, int k) {
  if (q < 0 || k < 0 || q >= a.n || k >= a.n) return "";
  const float v = live_attention_value(a, q, k);
  std::string s = "query " + std::to_string(q) + " '" + a.labels[q] + "' -> key " +
                  std::to_string(k) + " '" + a.labels[k] + "': ";
  if (std::isnan(v)) {
    const attn::Reason r = attn::visibility(q, k, a.mask);
    return s + (r == attn::Reason::Future         ? "masked (future token)"
                : r == attn::Reason::OtherSegment ? "masked (another packed prompt)"
                                                  : "masked (outside window)");
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, a.difference ? "%+.4f vs native" : "p = %.4f", v);
  return s + buf;
}

}  // namespace core
