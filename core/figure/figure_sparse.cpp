#include <algorithm>
#include <cstdio>
#include <limits>

#include "core/figure/axes.h"
#include "core/figure/colormap.h"
#include "core/figure/decorate.h"
#include "core/figure/figure_systems.h"
#include "core/views/mask_grid.h"
#include "core/views/sparse_patterns.h"

namespace fig {
namespace {

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * v);
  return buf;
}

// The pattern's mask grid as a heatmap with its name above.
void mask_panel(Figure& f, const Theme& t, const Rect& r, const core::MaskGrid& g,
                const std::string& name, Colormap cmap, int id) {
  Heatmap h;
  h.id = id;
  h.x = r.x;
  h.y = r.y;
  h.w = h.h = std::min(r.w, r.h);
  h.rows = g.rows;
  h.cols = g.cols;
  h.values = g.cells;
  h.cmap = cmap;
  h.masked = t.masked;
  for (float& v : h.values)
    if (v == 0) v = std::numeric_limits<float>::quiet_NaN();
  f.marks.push_back(h);
  f.marks.push_back(Rect{h.x, h.y, h.w, h.h, Rgba{0, 0, 0, 0}, t.grid, 1});
  f.marks.push_back(text_mark(
      t, r.x, r.y - 6, name + ": " + format_count(g.visible_pairs) + " pairs", t.small_size));
}

}  // namespace

std::string describe_sparse_cell(const core::SparsePatterns& p, const core::Scene& s, int id,
                                 int row, int col) {
  if (id == kSparseLongformerHeatmapId)
    return core::describe_mask_grid_cell(core::sparse_scene(s, 0), p.longformer_grid, row, col);
  if (id == kSparseBigBirdHeatmapId)
    return core::describe_mask_grid_cell(core::sparse_scene(s, s.sparse.random), p.bigbird_grid,
                                         row, col);
  return "";
}

Figure figure_sparse(const core::SparsePatterns& p, const core::Scene& s, const Theme& t,
                     FigureSize size) {
  const Colormap cmap = parse_colormap(s.colormap).value_or(Colormap::Viridis);
  const FigureSize fs = resolve_size(size, kFigureWidth, kFigureHeight);
  Figure f = make_figure(t, fs.width, fs.height);
  f.title = s.title.empty() ? kSparseTitle : s.title;
  f.caption = s.caption;
  f.x_label = "layers";
  std::vector<std::string> info;
  info.push_back("N = " + format_count(p.n) + ": " + std::to_string(p.global) +
                 " global tokens, a band of " + std::to_string(p.local) + " keys" +
                 (p.random > 0 ? ", " + std::to_string(p.random) + " random keys per query (seed " +
                                     std::to_string(p.seed) + ")"
                               : std::string()));
  info.push_back("dense causal " + format_count(p.dense_causal_pairs) + " pairs; Longformer " +
                 format_count(p.longformer_pairs) + " (" +
                 pct(static_cast<double>(p.longformer_pairs) / p.dense_causal_pairs) +
                 "); BigBird " + format_count(p.bigbird_pairs) + " (" +
                 pct(static_cast<double>(p.bigbird_pairs) / p.dense_causal_pairs) + ")");
  auto layers = [](int v) { return v < 0 ? std::string("never") : std::to_string(v) + " layers"; };
  info.push_back("every position reaches q=" + std::to_string(p.query) + " after " +
                 layers(p.layers_to_all_encoder) + " in the encoder form (globals see all), " +
                 layers(p.layers_to_all_causal) + " in the causal form");
  f.legend = {{palette_color(t, 2), "reach, encoder form"},
              {palette_color(t, 5), "reach, causal form", true}};
  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  req.left = t.small_size * 5;
  req.bottom = t.small_size * 1.8f;
  req.top = t.small_size * 1.5f;
  const Layout l = plan_layout(f, t, req);
  const Rect& plot = l.plot;
  const float side = std::min(plot.h * 0.5f, plot.w / 2 - 20);
  mask_panel(f, t, Rect{plot.x, plot.y, side, side}, p.longformer_grid, "Longformer", cmap,
             kSparseLongformerHeatmapId);
  mask_panel(f, t, Rect{plot.x + plot.w / 2, plot.y, side, side}, p.bigbird_grid, "BigBird", cmap,
             kSparseBigBirdHeatmapId);

  const Rect chart{plot.x, plot.y + side + t.font_size * 2.5f, plot.w,
                   plot.h - side - t.font_size * 2.5f};
  const int nl = static_cast<int>(p.reach_causal.size());
  const AxisMap xa{1, static_cast<double>(std::max(2, nl)), false, chart.x, chart.x + chart.w};
  const AxisMap ya{0, static_cast<double>(p.n), false, chart.y + chart.h, chart.y};
  add_x_ticks(f, t, chart, xa, nice_ticks(1, std::max(2, nl), 8),
              [](double v) { return std::to_string(static_cast<int>(v)); });
  add_y_ticks(
      f, t, chart, ya, nice_ticks(0, p.n, 4), [](double v) { return format_tokens(v); }, true);
  add_frame(f, t, chart);
  for (int form = 0; form < 2; ++form) {
    const std::vector<int64_t>& r = form == 0 ? p.reach_encoder : p.reach_causal;
    Polyline line;
    line.color = palette_color(t, form == 0 ? 2 : 5);
    line.width = t.line_width;
    line.dashed = form == 1;
    for (size_t i = 0; i < r.size(); ++i)
      line.pts.push_back({xa.map(static_cast<double>(i + 1)), ya.map(static_cast<double>(r[i]))});
    f.marks.push_back(line);
  }
  f.marks.push_back(
      text_mark(t, chart.x, chart.y - 6, "positions that reach q after each layer", t.small_size));
  decorate(f, t, l, info);
  return f;
}

}  // namespace fig
