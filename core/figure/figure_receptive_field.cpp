#include <cmath>
#include <limits>

#include "core/attention/window_text.h"
#include "core/figure/axes.h"
#include "core/figure/colormap.h"
#include "core/figure/decorate.h"
#include "core/figure/view_registry.h"
#include "core/figure/views.h"
#include "core/views/receptive_field.h"

namespace fig {

Figure figure_receptive_field(const core::ReceptiveField& rf, const core::Scene& s, const Theme& t,
                              FigureSize size) {
  Figure f = make_figure(t, resolve_size(size, kFigureWidth, kFigureHeight).width,
                         resolve_size(size, kFigureWidth, kFigureHeight).height);
  f.title = s.title.empty() ? view_title("receptive_field") : s.title;
  f.caption = s.caption;
  f.x_label = "position (keys that can reach the query)";
  f.y_label = "after layer";
  const int n_layers = static_cast<int>(rf.layers.size());

  std::vector<std::string> info;
  if (rf.per_layer > 0) {
    info.push_back("query q=" + std::to_string(rf.query) + ", " +
                   attn::window_phrase(rf.window, rf.convention) +
                   ": each windowed layer reaches " +
                   attn::window_bound_text(rf.window, rf.convention) + " further back");
    // The closed form after the last layer, whether or not the sequence is that long: this is
    // the "32 x 4096 = 131k" figure of the Mistral paper, with its exact count.
    const core::LayerReach& last = rf.layers.back();
    if (last.theoretical > 0) {
      info.push_back("closed form after " + std::to_string(n_layers) +
                     " layers: " + std::to_string(n_layers) + " x " + std::to_string(rf.per_layer) +
                     " + 1 = " + format_count(last.theoretical) + " tokens; " +
                     format_count(last.count) + " of them exist up to q");
    } else {
      // Windowed layers before the first global one still follow the closed form.
      const core::LayerReach* last_windowed = nullptr;
      int first_global = 0;
      for (const core::LayerReach& lr : rf.layers) {
        if (lr.global) {
          first_global = lr.layer;
          break;
        }
        last_windowed = &lr;
      }
      std::string before;
      if (last_windowed)
        before = std::to_string(last_windowed->layer) +
                 " windowed layers: " + std::to_string(last_windowed->layer) + " x " +
                 std::to_string(rf.per_layer) +
                 " + 1 = " + format_count(last_windowed->theoretical) + " tokens; ";
      info.push_back(before + "layer " + std::to_string(first_global) + " is global: all " +
                     format_count(last.count) + " positions up to q reach it");
    }
  } else {
    info.push_back("query q=" + std::to_string(rf.query) + ", mask " +
                   core::mask_kind_name(s.mask) +
                   (s.mask == attn::MaskKind::Sparse
                        ? ": reach propagated through the sparse pattern"
                        : ": no window, one layer already reaches every earlier position"));
    info.push_back("after layer 1: " + format_count(rf.layers.front().count) +
                   " positions; after " + std::to_string(n_layers) + ": " +
                   format_count(rf.layers.back().count));
  }

  f.legend.push_back({colormap_color(parse_colormap(s.colormap).value_or(Colormap::Viridis), 1.0f),
                      "reached (exact)", false});
  if (rf.per_layer > 0)
    f.legend.push_back(
        {t.highlight, std::string("closed form ") + attn::reach_formula(rf.convention), true});
  if (rf.bin_width > 1) {
    f.colorbar.present = true;
    f.colorbar.cmap = parse_colormap(s.colormap).value_or(Colormap::Viridis);
    f.colorbar.label = "fraction of bin reached";
  }
  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  req.left = t.small_size * 2.5f;
  req.bottom = t.small_size * 1.8f;
  req.right = t.small_size * 4;
  req.top = t.small_size * 1.3f;  // the "q=" label above the plot
  const Layout l = plan_layout(f, t, req);
  const Rect& plot = l.plot;

  Heatmap h;
  h.x = plot.x;
  h.y = plot.y;
  h.w = plot.w;
  h.h = plot.h;
  h.rows = n_layers;
  h.cols = rf.bins;
  h.masked = t.masked;
  h.id = kReachHeatmapId;
  h.cmap = parse_colormap(s.colormap).value_or(Colormap::Viridis);
  for (const core::LayerReach& lr : rf.layers)
    for (float c : lr.coverage)
      h.values.push_back(c > 0 ? c : std::numeric_limits<float>::quiet_NaN());
  f.marks.push_back(h);

  const AxisMap xa{0, static_cast<double>(rf.n), false, plot.x, plot.x + plot.w};
  const float row_h = plot.h / std::max(1, n_layers);
  add_x_ticks(f, t, plot, xa, nice_ticks(0, rf.n, 6),
              [](double v) { return format_count(static_cast<int64_t>(v)); });
  const int every = std::max(1, static_cast<int>(std::ceil(t.small_size * 1.3f / row_h)));
  for (int i = 0; i < n_layers; ++i) {
    const float yc = plot.y + (i + 0.5f) * row_h + t.small_size * 0.35f;
    // Layer 1 is labelled only when the next label is far enough away not to touch it.
    if ((i + 1) % every == 0 || (i == 0 && every > 2))
      f.marks.push_back(
          text_mark(t, plot.x - 5, yc, std::to_string(i + 1), t.small_size, Anchor::Right));
    if (rf.layers[i].global && row_h >= t.small_size * 0.8f) {
      Text g = text_mark(t, plot.x + plot.w + 5, yc, "global", t.small_size);
      g.color = t.muted;
      f.marks.push_back(g);
    }
  }
  add_frame(f, t, plot);

  if (rf.per_layer > 0) {  // the closed-form left edge, unclipped positions clamped to the axis
    Polyline edge;
    edge.color = t.highlight;
    edge.width = t.line_width;
    edge.dashed = true;
    for (int i = 0; i < n_layers; ++i) {
      const core::LayerReach& lr = rf.layers[i];
      const double lo =
          lr.theoretical > 0 ? std::max<double>(0, rf.query - (lr.theoretical - 1)) : 0;
      edge.pts.push_back({xa.map(lo), plot.y + i * row_h});
      edge.pts.push_back({xa.map(lo), plot.y + (i + 1) * row_h});
    }
    f.marks.push_back(edge);
  }
  Polyline qline;  // the query itself
  qline.pts = {{xa.map(rf.query + 0.5), plot.y}, {xa.map(rf.query + 0.5), plot.y + plot.h}};
  qline.color = t.foreground;
  qline.width = 1;
  f.marks.push_back(qline);
  f.marks.push_back(text_mark(t, xa.map(rf.query + 0.5), plot.y - 4,
                              "q=" + std::to_string(rf.query), t.small_size, Anchor::Center));
  decorate(f, t, l, info);
  return f;
}

}  // namespace fig
