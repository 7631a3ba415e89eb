#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "core/figure/axes.h"
#include "core/figure/decorate.h"
#include "core/figure/figure_systems.h"
#include "core/views/flash_online.h"
#include "core/views/flash_tiling.h"
#include "core/views/kv_memory.h"

namespace fig {
namespace {

std::string fmt(const char* f, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, a);
  return buf;
}

Rgba kind_color(const Theme& t, core::TileKind k) {
  switch (k) {
    case core::TileKind::Full:
      return palette_color(t, 4);
    case core::TileKind::Masked:
      return palette_color(t, 0);
    case core::TileKind::Skipped:
      return t.masked;
  }
  return t.masked;
}

// The Q x K tile grid, queries down, keys across, each tile a rect of its kind.
void draw_grid(Figure& f, const Theme& t, const Rect& area, const core::TileGrid& g) {
  const float side = std::min(area.w, area.h);
  const float sc = side / std::max(1, g.n);
  const float x0 = area.x, y0 = area.y;
  f.marks.push_back(Rect{x0, y0, g.n * sc, g.n * sc, t.masked, t.grid, 1});
  const float gap = g.total <= 1024 ? 0.5f : 0.0f;
  for (size_t i = 0; i < g.tiles.size(); ++i) {
    const core::Tile& tile = g.tiles[i];
    f.hover_areas.push_back(HoverArea{x0 + tile.k0 * sc, y0 + tile.q0 * sc,
                                      (tile.k1 - tile.k0) * sc, (tile.q1 - tile.q0) * sc,
                                      kFlashTileHoverId, static_cast<int>(i), 0});
    if (tile.kind == core::TileKind::Skipped) continue;
    f.marks.push_back(Rect{x0 + tile.k0 * sc + gap, y0 + tile.q0 * sc + gap,
                           (tile.k1 - tile.k0) * sc - 2 * gap, (tile.q1 - tile.q0) * sc - 2 * gap,
                           kind_color(t, tile.kind), Rgba{0, 0, 0, 0}, 0});
  }
  f.marks.push_back(text_mark(t, x0 + g.n * sc / 2, y0 - 6, "keys (K/V tiles of Bc)", t.small_size,
                              Anchor::Center));
  Text ql = text_mark(t, x0 - 6, y0 + g.n * sc / 2, "queries (row blocks of Br)", t.small_size,
                      Anchor::Center);
  ql.angle_deg = 90;
  f.marks.push_back(ql);
}

// The loop order on the grid: FA2 walks each row block across its live key tiles, every row
// block a thread block of its own (three of them drawn, side by side in time); FA1 walks each
// key tile down the row blocks that use it, one thread block doing all of them in turn.
void draw_loop_order(Figure& f, const Theme& t, const Rect& area, const core::TileGrid& g,
                     int version) {
  struct Span {
    int at = 0;                // row block (FA2) or key tile (FA1) start
    int lo = 1 << 30, hi = 0;  // the live extent along the walk
  };
  std::vector<Span> spans;
  for (const core::Tile& tile : g.tiles) {
    if (tile.kind == core::TileKind::Skipped) continue;
    const int at = version == 2 ? tile.q0 : tile.k0;
    auto it = std::find_if(spans.begin(), spans.end(), [at](const Span& p) { return p.at == at; });
    if (it == spans.end()) it = spans.insert(spans.end(), Span{at});
    it->lo = std::min(it->lo, version == 2 ? tile.k0 : tile.q0);
    it->hi = std::max(it->hi, version == 2 ? tile.k1 : tile.q1);
  }
  if (spans.empty()) return;
  const float sc = std::min(area.w, area.h) / std::max(1, g.n);
  const int step = version == 2 ? g.block_rows : g.block_cols;
  const size_t picks[] = {0, spans.size() / 2, spans.size() - 1};
  for (size_t k = 0; k < 3; ++k) {
    if (k > 0 && picks[k] == picks[k - 1]) continue;
    const Span& p = spans[picks[k]];
    const float mid = (p.at + std::min(step, g.n - p.at) / 2.0f) * sc;
    Polyline line;
    line.color = t.foreground;
    line.width = t.line_width * 1.5f;
    const Point a = version == 2 ? Point{area.x + p.lo * sc, area.y + mid}
                                 : Point{area.x + mid, area.y + p.lo * sc};
    const Point b = version == 2 ? Point{area.x + p.hi * sc, area.y + mid}
                                 : Point{area.x + mid, area.y + p.hi * sc};
    line.pts = {a, b};
    f.marks.push_back(line);
    Markers head;
    head.pts = {b};
    head.color = t.foreground;
    head.radius = 3.5f;
    f.marks.push_back(head);
  }
}

// One step of the trace spelled out: the update the kernel does for key tile `i`.
std::string step_line(const core::OnlineSoftmaxTrace& tr, int i) {
  const core::OnlineStep& st = tr.steps[i];
  const float m_old = i > 0 ? tr.steps[i - 1].m : -INFINITY;
  const float l_old = i > 0 ? tr.steps[i - 1].l : 0.0f;
  std::string s = "step " + std::to_string(i) + ", keys " + std::to_string(st.k0) + ".." +
                  std::to_string(st.k1 - 1) + " (" + std::to_string(st.visible) + " visible): ";
  if (st.visible == 0) return s + "all masked, nothing changes";
  s += "tile max " + fmt("%.4g", st.tile_max) + "; m " +
       (i > 0 ? fmt("%.4g", m_old) : std::string("-inf")) + " -> " + fmt("%.4g", st.m) +
       "; acc x " + (i > 0 ? fmt("%.4g", st.rescale) : std::string("0")) +
       " + P V; l = " + fmt("%.4g", l_old) + " x rescale + sum P = " + fmt("%.4g", st.l);
  return s;
}

// Running max m and running sum l after each key tile of the traced row.
void draw_trace(Figure& f, const Theme& t, const Rect& r, const core::OnlineSoftmaxTrace& tr,
                int step) {
  if (tr.steps.empty()) return;
  double mlo = 1e30, mhi = -1e30, lhi = 0;
  for (const core::OnlineStep& s : tr.steps) {
    if (s.visible == 0 && s.l == 0) continue;
    mlo = std::min(mlo, static_cast<double>(s.m));
    mhi = std::max(mhi, static_cast<double>(s.m));
    lhi = std::max(lhi, static_cast<double>(s.l));
  }
  if (mlo > mhi) return;
  if (mhi - mlo < 1e-6) {  // m never moved: draw it across the middle
    mlo -= 0.5;
    mhi += 0.5;
  }
  const int n = static_cast<int>(tr.steps.size());
  const AxisMap xa{0, static_cast<double>(std::max(1, n - 1)), false, r.x, r.x + r.w};
  const AxisMap ma{mlo, mhi, false, r.y + r.h, r.y};
  const AxisMap la{0, std::max(lhi, 1e-9), false, r.y + r.h, r.y};
  add_frame(f, t, r);
  Polyline pm, pl;
  pm.color = palette_color(t, 5);
  pl.color = palette_color(t, 2);
  pm.width = pl.width = t.line_width;
  pl.dashed = true;
  Markers rescaled;
  rescaled.color = palette_color(t, 5);
  rescaled.radius = 3;
  for (int i = 0; i < n; ++i) {
    const core::OnlineStep& s = tr.steps[i];
    if (s.visible == 0 && s.l == 0) continue;
    pm.pts.push_back({xa.map(i), ma.map(s.m)});
    pl.pts.push_back({xa.map(i), la.map(s.l)});
    if (i > 0 && s.rescale < 1.0f) rescaled.pts.push_back({xa.map(i), ma.map(s.m)});
  }
  f.marks.push_back(pm);
  f.marks.push_back(pl);
  f.marks.push_back(rescaled);
  if (step >= 0 && step < n) {  // the step shown in detail
    Polyline at;
    at.pts = {{xa.map(step), r.y}, {xa.map(step), r.y + r.h}};
    at.color = t.foreground;
    at.width = t.line_width;
    f.marks.push_back(at);
  }
  const std::string title = "online softmax of row q=" + std::to_string(tr.query) + " over " +
                            std::to_string(n) + " key tiles";
  f.marks.push_back(text_mark(t, r.x, r.y - 6, title, fit_text_size(title, t.small_size, r.w)));
  f.marks.push_back(text_mark(t, r.x + r.w / 2, r.y + r.h + t.small_size * 1.4f, "key tile",
                              t.small_size, Anchor::Center));
}

// The steps as numbers: per key tile its keys, tile max, m, l, the rescale factor and the
// accumulator's norm; the first and last of them when `max_rows` cannot hold them all.
void draw_steps(Figure& f, const Theme& t, float x, float y, float w, int max_rows,
                const core::OnlineSoftmaxTrace& tr, int step) {
  const int n = static_cast<int>(tr.steps.size());
  const int first = (max_rows - 1) / 2, last = max_rows - 1 - first;  // one row for "..."
  const bool around = step >= 0 && step < n && n > max_rows;          // the rows around the step
  const int lo = around ? std::clamp(step - max_rows / 2, 0, n - max_rows) : 0;
  std::vector<int> rows;
  for (int i = 0; i < n; ++i)
    if (around ? i >= lo && i < lo + max_rows : n <= max_rows || i < first || i >= n - last)
      rows.push_back(i);
  const std::string head[] = {"keys", "tile max", "m", "l", "rescale", "|acc|"};
  std::vector<std::array<std::string, 6>> cells;
  for (int i : rows) {
    const core::OnlineStep& st = tr.steps[i];
    double norm = 0;
    for (float a : st.acc) norm += static_cast<double>(a) * a;
    cells.push_back({std::to_string(st.k0) + ".." + std::to_string(st.k1 - 1),
                     st.visible ? fmt("%.4g", st.tile_max) : "masked", fmt("%.4g", st.m),
                     fmt("%.4g", st.l), i == 0 ? "-" : fmt("%.4g", st.rescale),
                     fmt("%.4g", std::sqrt(norm))});
  }
  // Columns: the key range gets 1.6 shares, the numbers one each; one text size for the
  // table, at which the widest cell fits its column.
  float cx[7] = {x};
  for (int c = 0; c < 6; ++c) cx[c + 1] = cx[c] + w * (c == 0 ? 1.6f : 1.0f) / 6.6f;
  float sz = t.small_size;
  for (int c = 0; c < 6; ++c) {
    const float cw = cx[c + 1] - cx[c] - 6;
    sz = std::min(sz, fit_text_size(head[c], t.small_size, cw));
    for (const auto& row : cells) sz = std::min(sz, fit_text_size(row[c], t.small_size, cw));
  }
  const float line = t.small_size * 1.35f;
  for (int c = 0; c < 6; ++c) f.marks.push_back(text_mark(t, cx[c], y + sz, head[c], sz));
  float ty = y + sz + line;
  for (size_t k = 0; k < rows.size(); ++k) {
    if (k > 0 && rows[k] != rows[k - 1] + 1) {
      f.marks.push_back(text_mark(t, x, ty, "...", sz));
      ty += line;
    }
    const core::OnlineStep& st = tr.steps[rows[k]];
    for (int c = 0; c < 6; ++c) {
      Text tx = text_mark(t, cx[c], ty, cells[k][c], sz);
      tx.bold = rows[k] == step;
      if (c == 4 && rows[k] > 0 && st.rescale < 1.0f) tx.color = palette_color(t, 5);  // m moved
      f.marks.push_back(tx);
    }
    ty += line;
  }
}

// Horizontal bars: HBM bytes of standard attention, FA1, FA2, and the N^2 d^2 / M bound.
void draw_hbm(Figure& f, const Theme& t, const Rect& r, const core::FlashTiling& ft) {
  const double e = ft.elem_bytes;
  struct Bar {
    std::string label;
    double bytes;
    Rgba color;
  };
  const std::vector<Bar> bars = {{"standard", ft.hbm.standard * e, palette_color(t, 5)},
                                 {"FA1", ft.hbm.fa1 * e, palette_color(t, ft.version == 1 ? 4 : 1)},
                                 {"FA2", ft.hbm.fa2 * e, palette_color(t, ft.version == 2 ? 4 : 1)},
                                 {"N^2 d^2 / M", ft.hbm.bound * e, t.muted}};
  double hi = 1;
  for (const Bar& b : bars) hi = std::max(hi, b.bytes);
  const float label_w = text_width("N^2 d^2 / M", t.small_size) + 8;
  const float bh = std::min(22.0f, r.h / (bars.size() * 1.5f));
  for (size_t i = 0; i < bars.size(); ++i) {
    const float y = r.y + i * bh * 1.5f;
    const float w = static_cast<float>((r.w - label_w - 70) * bars[i].bytes / hi);
    f.marks.push_back(
        text_mark(t, r.x + label_w - 6, y + bh * 0.7f, bars[i].label, t.small_size, Anchor::Right));
    f.marks.push_back(
        Rect{r.x + label_w, y, std::max(1.0f, w), bh, bars[i].color, Rgba{0, 0, 0, 0}, 0});
    f.marks.push_back(text_mark(t, r.x + label_w + std::max(1.0f, w) + 4, y + bh * 0.7f,
                                core::format_bytes(bars[i].bytes), t.small_size));
  }
}

}  // namespace

Figure figure_flash(const core::FlashView& v, const core::Scene& s, const Theme& t, FigureSize size,
                    int step) {
  const core::FlashTiling& ft = v.tiling;
  const core::OnlineSoftmaxTrace& tr = v.trace;
  const FigureSize fs = resolve_size(size, kFigureWidth, kFigureHeight);
  Figure f = make_figure(t, fs.width, fs.height);
  f.title = s.title.empty() ? kFlashTitle : s.title;
  f.caption = s.caption;
  const core::TileGrid& g = ft.grid;
  std::vector<std::string> info;
  info.push_back("Br x Bc = " + std::to_string(ft.sizes.block_rows) + " x " +
                 std::to_string(ft.sizes.block_cols) +
                 " from M = " + format_count(ft.sizes.sram_elems) + " elements (" +
                 core::format_bytes(static_cast<double>(ft.sram_bytes)) + " " +
                 core::dtype_name(s.dtype) + "), d = " + std::to_string(ft.head_dim) +
                 ": Bc = ceil(M / 4d), Br = min(Bc, d)");
  info.push_back(std::string(core::mask_kind_name(s.mask)) + ", N = " + format_count(g.n) + ": " +
                 format_count(g.total) + " tiles = " + format_count(g.skipped) + " skipped + " +
                 format_count(g.masked) + " masked + " + format_count(g.full) + " full");
  info.push_back(
      "FA" + std::to_string(ft.version) +
      (ft.version == 1 ? " (outer loop over K/V): " : " (outer loop over Q): ") +
      format_count(ft.version == 1 ? ft.schedule.thread_blocks_fa1
                                   : ft.schedule.thread_blocks_fa2) +
      " thread blocks, " +
      format_count(ft.version == 1 ? ft.schedule.rescales_fa1 : ft.schedule.rescales_fa2) +
      " row rescales (FA" + std::to_string(3 - ft.version) + ": " +
      format_count(ft.version == 1 ? ft.schedule.thread_blocks_fa2
                                   : ft.schedule.thread_blocks_fa1) +
      " blocks, " +
      format_count(ft.version == 1 ? ft.schedule.rescales_fa2 : ft.schedule.rescales_fa1) +
      " rescales)");
  info.push_back("attnlab's kernel: " + std::to_string(ft.kernel.queries_per_block) + "-query x " +
                 std::to_string(ft.kernel.key_tile) + "-key tiles x " +
                 std::to_string(s.n_kv_heads) + " K/V heads: " + format_count(ft.kernel.tiles) +
                 " tiles, " + format_count(ft.kernel.tiles_skipped) + " skipped, " +
                 core::format_bytes(static_cast<double>(ft.kernel.bytes_kv)) +
                 " of K/V staged (the emulator counts the same)");
  std::string row = "row q=" + std::to_string(tr.query) + " (row block " +
                    std::to_string(tr.row_block_lo) + ".." + std::to_string(tr.row_block_hi - 1) +
                    ", " + std::to_string(tr.steps.size()) + " key tiles of " +
                    std::to_string(tr.block_cols) + "): online = ordinary softmax (float64) to " +
                    fmt("%.1e", tr.max_abs_diff);
  if (tr.max_prob_diff_model >= 0)
    row += "; probabilities = the model's own to " + fmt("%.1e", tr.max_prob_diff_model);
  info.push_back(row);
  info.push_back("trace on " + tr.source);
  if (step >= 0 && step < static_cast<int>(tr.steps.size())) info.push_back(step_line(tr, step));
  f.legend = {{kind_color(t, core::TileKind::Full), "full tile"},
              {kind_color(t, core::TileKind::Masked), "tile needing a mask"},
              {kind_color(t, core::TileKind::Skipped), "skipped tile"},
              {t.foreground, ft.version == 2 ? "FA2: a row block's walk (each in parallel)"
                                             : "FA1: a K/V tile's walk (one block, in turn)"},
              {palette_color(t, 5), "running max m"},
              {palette_color(t, 2), "running sum l", true}};
  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  req.left = t.small_size * 2;
  req.top = t.small_size * 1.5f;
  const Layout l = plan_layout(f, t, req);
  const Rect& plot = l.plot;
  const float grid_w = std::min(plot.h, plot.w * 0.55f);
  const Rect grid_area{plot.x, plot.y, grid_w, grid_w};
  if (g.total <= kFlashMaxDrawnTiles && !g.tiles.empty()) {
    draw_grid(f, t, grid_area, g);
    draw_loop_order(f, t, grid_area, g, ft.version);
  } else {
    f.marks.push_back(text_mark(t, plot.x, plot.y + t.font_size,
                                format_count(g.total) + " tiles: too many to draw", t.font_size));
  }
  const float rx = plot.x + grid_w + t.font_size * 2.5f, rw = plot.x + plot.w - rx;
  const float half = (plot.h - t.font_size * 3) / 2;
  // The chart of m and l, and under it as many steps as fit in 55% of the space (at least 3
  // rows and the header, else the chart alone).
  const float avail = half - t.font_size, line = t.small_size * 1.35f;
  const float gap = t.small_size * 2.2f;
  const int table_rows = std::min(static_cast<int>(tr.steps.size()) + 1,
                                  static_cast<int>((avail * 0.55f - gap) / line) - 1);
  const bool table = table_rows >= 3;
  const float chart_h = table ? avail - gap - line * (table_rows + 1) : avail;
  draw_trace(f, t, Rect{rx, plot.y + t.font_size, rw, chart_h}, tr, step);
  if (table)
    draw_steps(f, t, rx, plot.y + t.font_size + chart_h + gap, rw, table_rows - 1, tr, step);
  const float hy = plot.y + half + t.font_size * 3;
  f.marks.push_back(text_mark(t, rx, hy - 6, "HBM traffic, one head", t.small_size));
  draw_hbm(f, t, Rect{rx, hy, rw, plot.y + plot.h - hy}, ft);
  decorate(f, t, l, info);
  return f;
}

}  // namespace fig
