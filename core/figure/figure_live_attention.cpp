#include <algorithm>
#include <cmath>
#include <limits>

#include "core/attention/mask_names.h"
#include "core/attention/window_text.h"
#include "core/figure/axes.h"
#include "core/figure/colormap.h"
#include "core/figure/decorate.h"
#include "core/figure/live_views.h"
#include "core/figure/view_registry.h"
#include "core/figure/views.h"

namespace fig {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::string short_label(const std::string& s, size_t max_bytes = 12) {
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 start
  return s.substr(0, cut) + "~";
}

ValueScale value_scale(const core::Scene& s, bool difference) {
  return s.log_scale && !difference ? ValueScale::Log : ValueScale::Linear;
}

// Packed prompts: how far the packed pass is from running each prompt alone.
std::string packed_line(const core::LiveResult& r) {
  if (!r.pass || r.pass->variant.segments.empty()) return "";
  std::string s = "prompts of ";
  for (size_t i = 0; i < r.pass->variant.segments.size(); ++i)
    s += (i ? "+" : "") + std::to_string(r.pass->variant.segments[i]);
  s += " tokens, positions from 0 in each; packed vs each alone: ";
  if (!r.packed || r.packed->segments != r.pass->variant.segments) return s + "computing...";
  char buf[160];
  std::snprintf(buf, sizeof buf, "max|dlogit| %.3g (max|logit| %.3g), max|dp| %.3g",
                r.packed->max_dlogit, r.packed->max_logit, r.packed->max_dp);
  return s + buf;
}

}  // namespace

Figure figure_live_attention(const core::LiveAttention& a, const core::Scene& s,
                             const core::LiveResult& r, const Theme& t) {
  Figure f = make_figure(t, kLiveFigureWidth, kLiveFigureHeight);
  f.title = s.title.empty() ? view_title("live_attention") : s.title;
  f.caption = s.caption;
  const Colormap cmap =
      a.difference ? Colormap::Diverging : parse_colormap(s.colormap).value_or(Colormap::Viridis);
  const ValueScale scale = value_scale(s, a.difference);
  const float vmin = scale == ValueScale::Log ? 1e-3f : a.vmin;

  std::vector<std::string> info;
  char buf[256];
  std::snprintf(
      buf, sizeof buf, "%s, %d tokens, %s%s", r.model_name.c_str(), a.n, a.setting.c_str(),
      r.pass ? (", pass " + std::to_string(static_cast<int>(r.pass->ms)) + " ms").c_str() : "");
  info.push_back(buf);
  info.back() += std::string(" -- ") + core::model::precision_name(a.precision);
  if (!a.draft_why.empty()) info.back() += " (" + a.draft_why + ")";
  if (a.layers_done < a.n_layers)
    info.back() += ", " + std::to_string(a.layers_done) + " of " + std::to_string(a.n_layers) +
                   " layers done (the others empty until computed)";
  if (r.pass && r.pass->truncated) info.back() += " (prompt cut to its first tokens)";
  std::string what = "layer " + std::to_string(a.layer) + ", ";
  if (a.aggregate == core::LiveAggregate::Head)
    what += "head " + std::to_string(a.head) + " (KV head " +
            std::to_string(attn::kv_head_of(a.head, a.n_heads, a.kv_heads)) + ")";
  else
    what += std::string(core::live_aggregate_name(a.aggregate)) + " over " +
            std::to_string(a.n_heads) + " heads";
  if (a.difference) what += " -- difference: this setting minus native (blue < 0 < red)";
  if (a.mask.kind == attn::MaskKind::BlockDiagonal)
    what += std::string("; mask: ") + attn::xformers_mask_name(a.mask) +
            (a.mask.window > 0 ? " (" + attn::window_phrase(a.mask.window, a.mask.convention) +
                                     " inside each prompt)"
                               : "");
  else
    what += a.mask.kind == attn::MaskKind::SlidingWindow
                ? "; mask: SWA " + attn::window_phrase(a.mask.window, a.mask.convention)
            : a.mask.kind == attn::MaskKind::Sparse ? "; mask: sparse (every layer)"
                                                    : "; mask: causal";
  info.push_back(what);
  if (const std::string p = packed_line(r); !p.empty()) info.push_back(p);
  if (a.sparse.active) info.push_back(a.sparse.status);

  f.colorbar.present = true;
  f.colorbar.cmap = cmap;
  f.colorbar.scale = scale;
  f.colorbar.vmin = vmin;
  f.colorbar.vmax = a.vmax;
  f.colorbar.label = a.difference ? "probability difference" : "attention probability";
  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  const Layout l = plan_layout(f, t, req);
  const Rect& P = l.plot;

  // Overview: every layer x head as a mosaic with one-cell gutters (one texture in the app).
  const int L = a.n_layers, H = a.n_heads, T = std::max(1, a.thumb);
  const float head_label_h = t.small_size * 2.8f;  // overview title, then head numbers
  const float layer_label_w = text_width("29", t.small_size) + 6;
  const float ov_h = P.h - head_label_h - t.small_size * 1.6f;
  const float side = std::max(4.0f, std::min(ov_h / L, (P.w * 0.34f - layer_label_w) / H));
  Heatmap mo;
  mo.x = P.x + layer_label_w;
  mo.y = P.y + head_label_h;
  mo.w = side * H;
  mo.h = side * L;
  mo.rows = L * (T + 1);
  mo.cols = H * (T + 1);
  mo.values.assign(static_cast<size_t>(mo.rows) * mo.cols, kNaN);
  for (int li = 0; li < L; ++li)
    for (int h = 0; h < H; ++h) {
      const std::vector<float>& th = a.thumbs[static_cast<size_t>(li) * H + h];
      for (int rr = 0; rr < T; ++rr)
        for (int cc = 0; cc < T; ++cc)
          mo.values[static_cast<size_t>(li * (T + 1) + rr) * mo.cols + h * (T + 1) + cc] =
              th[static_cast<size_t>(rr) * T + cc];
    }
  mo.vmin = scale == ValueScale::Log ? 1e-3f : a.thumb_vmin;
  mo.vmax = a.thumb_vmax;
  mo.cmap = cmap;
  mo.scale = scale;
  mo.masked = t.background;
  mo.id = kLiveThumbsHeatmapId;
  f.marks.push_back(mo);
  f.marks.push_back(
      text_mark(t, mo.x, P.y + t.small_size, "all layers x heads (click one)", t.small_size));
  for (int h = 0; h < H; ++h)
    f.marks.push_back(text_mark(t, mo.x + (h + 0.5f) * side, mo.y - 3, std::to_string(h),
                                t.small_size, Anchor::Center));
  const int every = std::max(1, static_cast<int>(std::ceil(t.small_size * 1.2f / side)));
  for (int li = 0; li < L; li += every)
    f.marks.push_back(text_mark(t, mo.x - 3, mo.y + (li + 0.5f) * side + t.small_size * 0.35f,
                                std::to_string(li), t.small_size, Anchor::Right));
  Rect sel;  // the selected layer (and head)
  sel.x = mo.x + (a.aggregate == core::LiveAggregate::Head ? a.head * side : 0);
  sel.y = mo.y + a.layer * side;
  sel.w = a.aggregate == core::LiveAggregate::Head ? side : side * H;
  sel.h = side;
  sel.stroke = t.highlight;
  sel.stroke_width = 2;
  f.marks.push_back(sel);

  // The large map with token labels: queries down the left, keys along the top.
  float label_w = 0;
  std::vector<std::string> labels;
  for (int i = 0; i < a.n; ++i) {
    labels.push_back(short_label(a.labels[i]));
    label_w = std::max(label_w, text_width(std::to_string(i) + " " + labels.back(), t.small_size));
  }
  label_w = std::min(label_w + 6, 130.0f);
  const float x0 = mo.x + mo.w + 24 + label_w;
  const float y0 = P.y + label_w;
  const float big = std::max(20.0f, std::min(P.x + P.w - x0, P.y + P.h - y0));
  Heatmap hm;
  hm.x = x0;
  hm.y = y0;
  hm.w = big;
  hm.h = big;
  hm.rows = a.cells;
  hm.cols = a.cells;
  hm.grid_rows = a.n;  // hover names the exact (query, key), pooled cells or not
  hm.grid_cols = a.n;
  hm.values = a.values;
  hm.vmin = vmin;
  hm.vmax = a.vmax;
  hm.cmap = cmap;
  hm.scale = scale;
  hm.masked = t.background;
  hm.id = kLiveAttentionHeatmapId;
  f.marks.push_back(hm);
  Rect frame{x0, y0, big, big, {0, 0, 0, 0}, t.grid, 1};
  f.marks.push_back(frame);
  const float cell = big / std::max(1, a.n);
  const int label_every = std::max(1, static_cast<int>(std::ceil(t.small_size * 1.1f / cell)));
  for (int i = 0; i < a.n; i += label_every) {
    const std::string txt = std::to_string(i) + " " + labels[i];
    f.marks.push_back(text_mark(t, x0 - 4, y0 + (i + 0.5f) * cell + t.small_size * 0.35f, txt,
                                t.small_size, Anchor::Right));
    Text kt = text_mark(t, x0 + (i + 0.5f) * cell + t.small_size * 0.35f, y0 - 4, txt, t.small_size,
                        Anchor::Left);
    kt.angle_deg = 90;
    f.marks.push_back(kt);
  }
  decorate(f, t, l, info);
  return f;
}

std::optional<ThumbHit> live_thumb_at(const Figure& f, const core::LiveAttention& a, float x,
                                      float y) {
  const Heatmap* h = find_heatmap(f, kLiveThumbsHeatmapId);
  if (!h) return std::nullopt;
  const std::optional<HeatmapCell> c = heatmap_cell_at(*h, x, y);
  if (!c) return std::nullopt;
  const int T = std::max(1, a.thumb);
  ThumbHit hit;
  hit.layer = c->row / (T + 1);
  hit.head = c->col / (T + 1);
  const int rr = std::min(T - 1, c->row % (T + 1)), cc = std::min(T - 1, c->col % (T + 1));
  hit.q = static_cast<int>(static_cast<int64_t>(rr) * a.n / T);
  hit.k = static_cast<int>(static_cast<int64_t>(cc) * a.n / T);
  if (hit.layer >= a.n_layers || hit.head >= a.n_heads) return std::nullopt;
  return hit;
}

std::vector<Mark> live_attention_highlight(const Figure& f, const core::LiveAttention& a, int token,
                                           const Theme& t) {
  std::vector<Mark> out;
  if (token < 0 || token >= a.n) return out;
  Rgba col = t.highlight;
  auto outline = [&](float x, float y, float w, float h) {
    Rect r;
    r.x = x;
    r.y = y;
    r.w = w;
    r.h = h;
    r.stroke = col;
    r.stroke_width = 1.5f;
    out.emplace_back(std::in_place_type<Rect>, r);
  };
  if (const Heatmap* h = find_heatmap(f, kLiveThumbsHeatmapId)) {
    const int T = std::max(1, a.thumb);
    const float cw = h->w / h->cols, ch = h->h / h->rows;
    const int c = core::thumb_cell_of(token, a.n, T);
    for (int li = 0; li < a.n_layers; ++li)
      for (int hd = 0; hd < a.n_heads; ++hd) {
        const float bx = h->x + hd * (T + 1) * cw, by = h->y + li * (T + 1) * ch;
        outline(bx, by + c * ch, T * cw, ch);  // the token as a query (row)
        outline(bx + c * cw, by, cw, T * ch);  // the token as a key (column)
      }
  }
  if (const Heatmap* h = find_heatmap(f, kLiveAttentionHeatmapId)) {
    const float cs = h->w / std::max(1, h->grid_cols);  // one position
    outline(h->x, h->y + token * cs, h->w, cs);
    outline(h->x + token * cs, h->y, cs, h->h);
  }
  return out;
}

}  // namespace fig
