#include <cmath>
#include <cstdio>
#include <limits>

#include "core/attention/window_text.h"
#include "core/figure/axes.h"
#include "core/figure/colormap.h"
#include "core/figure/decorate.h"
#include "core/figure/view_registry.h"
#include "core/figure/views.h"
#include "core/views/mask_grid.h"

namespace fig {
namespace {

std::string window_text(const core::Scene& s) {
  const int w = s.window;
  if (w <= 0) return "no window";
  return attn::window_phrase(w, s.window_convention) +
         " (q-k <= " + std::to_string(attn::window_max_distance(w, s.window_convention)) + ")";
}

std::string mask_text(const core::Scene& s) {
  std::string m = std::string("mask: ") + core::mask_kind_name(s.mask);
  switch (s.mask) {
    case attn::MaskKind::Causal:
      return m + " (every k <= q)";
    case attn::MaskKind::SlidingWindow:
      return m + ", " + window_text(s);
    case attn::MaskKind::Chunked:
      return m + ", prefill chunks of C=" + std::to_string(s.chunk) + ", " + window_text(s);
    case attn::MaskKind::BlockDiagonal: {
      std::string seg;
      for (int len : s.segments) seg += (seg.empty() ? "" : ", ") + std::to_string(len);
      return m + ", packed prompts of lengths [" + seg + "]" +
             (s.window > 0 ? ", " + window_text(s) : "");
    }
    case attn::MaskKind::Sparse: {
      char buf[128];
      std::snprintf(buf, sizeof buf, ", global G=%d, local L=%d, random R=%d (seed %u)",
                    s.sparse.global, s.sparse.local, s.sparse.random, s.sparse.seed);
      return m + buf;
    }
  }
  return m;
}

void add_line(Figure& f, Point a, Point b, Rgba c, float w, bool dashed) {
  Polyline l;
  l.pts = {a, b};
  l.color = c;
  l.width = w;
  l.dashed = dashed;
  f.marks.push_back(l);
}

}  // namespace

Figure figure_mask(const core::MaskGrid& g, const core::Scene& s, const Theme& t, FigureSize size) {
  Figure f = make_figure(t, resolve_size(size, kFigureWidth, kFigureHeight).width,
                         resolve_size(size, kFigureWidth, kFigureHeight).height);
  f.title = s.title.empty() ? view_title("mask") : s.title;
  f.caption = s.caption;
  f.x_label = "key position k";
  f.y_label = "query position q";
  const bool exact = g.block == 1;
  if (!exact) {
    f.colorbar.present = true;
    f.colorbar.cmap = parse_colormap(s.colormap).value_or(Colormap::Viridis);
    f.colorbar.label = "fraction visible";
  }
  std::vector<std::string> info = {mask_text(s)};
  if (!g.xformers.empty()) info.back() += "; xformers: " + g.xformers;
  char buf[200];
  std::snprintf(buf, sizeof buf, "visible pairs: %s of %s causal pairs (%.1f%%), N=%d",
                format_count(g.visible_pairs).c_str(), format_count(g.causal_pairs).c_str(),
                100.0 * g.ratio, g.n);
  info.push_back(buf);
  if (!exact)
    info.push_back("each cell covers " + std::to_string(g.block) + " x " + std::to_string(g.block) +
                   " pairs and shows the fraction visible");

  f.legend.push_back({t.highlight, "query q=" + std::to_string(s.query), false});
  if (!g.chunk_starts.empty()) f.legend.push_back({t.highlight, "prefill chunk", true});
  if (!g.segment_starts.empty()) f.legend.push_back({t.foreground, "prompt boundary", false});

  const bool token_labels = g.n <= 64;
  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  req.left = token_labels ? t.small_size * 2.2f : t.small_size * 3.5f;
  req.top = token_labels ? t.small_size * 1.4f : 0;
  req.bottom = token_labels ? 0 : t.small_size * 1.8f;
  Layout l = plan_layout(f, t, req);
  const float side = std::min(l.plot.w, l.plot.h);
  // The map is square; on a wide page the square, its labels, legend and colorbar move to
  // the middle together instead of leaving a gap between the map and its legend.
  const float dx = (l.plot.w - side) / 2;
  l.plot.x += dx;
  l.plot.w = side;
  l.legend_x -= dx;
  l.colorbar_x -= dx;
  l.y_label_x += dx;
  const Rect plot{l.plot.x, l.plot.y, side, side};

  Heatmap h;
  h.x = plot.x;
  h.y = plot.y;
  h.w = h.h = side;
  h.rows = g.rows;
  h.cols = g.cols;
  h.cmap = parse_colormap(s.colormap).value_or(Colormap::Viridis);
  h.masked = t.masked;
  h.id = kMaskHeatmapId;
  // Exact grids draw visible cells at the top of the map; a fraction of 0 is drawn as masked
  // so that an empty block never looks like a faint visible one. The cells move into the
  // heatmap (a 512² grid is 1 MiB; copies of it showed up in the frame time).
  h.values = g.cells;
  for (float& v : h.values)
    if (!(v > 0)) v = std::numeric_limits<float>::quiet_NaN();
  f.marks.push_back(std::move(h));
  f.marks.push_back(Rect{plot.x, plot.y, side, side, Rgba{0, 0, 0, 0}, t.grid, 1});

  const float cell = side / g.rows;
  if (token_labels) {
    for (int i = 0; i <= g.n; ++i) {  // cell borders make single pairs countable
      add_line(f, {plot.x, plot.y + i * cell}, {plot.x + side, plot.y + i * cell}, t.background, 1,
               false);
      add_line(f, {plot.x + i * cell, plot.y}, {plot.x + i * cell, plot.y + side}, t.background, 1,
               false);
    }
    // Rows need a line of height per label, columns the width of the widest number.
    auto stride = [&](float need) {
      int every = 1;
      while (every * cell < need && every < g.n) every *= 2;
      return every;
    };
    const int every_y = stride(t.small_size * 1.1f);
    const int every_x = stride(text_width(std::to_string(g.n - 1), t.small_size) + 3);
    for (int i = 0; i < g.n; ++i) {
      const float c = (i + 0.5f) * cell;
      if (i % every_y == 0)
        f.marks.push_back(text_mark(t, plot.x - 4, plot.y + c + t.small_size * 0.35f,
                                    std::to_string(i), t.small_size, Anchor::Right));
      if (i % every_x == 0)
        f.marks.push_back(
            text_mark(t, plot.x + c, plot.y - 4, std::to_string(i), t.small_size, Anchor::Center));
    }
  } else {
    const AxisMap xa{0, static_cast<double>(g.n), false, plot.x, plot.x + side};
    const AxisMap ya{0, static_cast<double>(g.n), false, plot.y, plot.y + side};
    const auto ticks = nice_ticks(0, g.n, 6);
    auto fmt = [](double v) { return format_count(static_cast<int64_t>(v)); };
    add_x_ticks(f, t, plot, xa, ticks, fmt);
    add_y_ticks(f, t, plot, ya, ticks, fmt);
  }

  const float unit = side / g.n;  // figure units per position
  if (g.chunk_starts.size() <= 256)
    for (int p : g.chunk_starts) {  // prefill chunks are bands of queries
      add_line(f, {plot.x, plot.y + p * unit}, {plot.x + side, plot.y + p * unit}, t.highlight,
               1.5f, true);
    }
  for (int p : g.segment_starts) {
    add_line(f, {plot.x, plot.y + p * unit}, {plot.x + side, plot.y + p * unit}, t.foreground, 1.5f,
             false);
    add_line(f, {plot.x + p * unit, plot.y}, {plot.x + p * unit, plot.y + side}, t.foreground, 1.5f,
             false);
  }
  // The query row the receptive-field view follows, so the two views can be read together.
  if (s.query < g.n) {
    const float y0 = plot.y + s.query * unit;
    f.marks.push_back(
        Rect{plot.x, y0, side, std::max(unit, 1.0f), Rgba{0, 0, 0, 0}, t.highlight, 1.5f});
  }
  decorate(f, t, l, info);
  return f;
}

}  // namespace fig
