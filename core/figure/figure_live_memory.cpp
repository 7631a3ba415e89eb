#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/figure/axes.h"
#include "core/figure/decorate.h"
#include "core/figure/live_views.h"
#include "core/figure/view_registry.h"
#include "core/views/kv_memory.h"

namespace fig {
namespace {

Polyline line_of(const std::vector<int>& n, const std::vector<double>& y, const AxisMap& xa,
                 const AxisMap& ya, Rgba c, float w, bool dashed) {
  Polyline p;
  p.color = c;
  p.width = w;
  p.dashed = dashed;
  for (size_t i = 0; i < n.size(); ++i) p.pts.push_back({xa.map(n[i]), ya.map(y[i])});
  return p;
}

}  // namespace

Figure figure_live_memory(const core::LiveMemory& m, const core::Scene& s, const Theme& t) {
  Figure f = make_figure(t, kLiveFigureWidth, kLiveFigureHeight);
  f.title = s.title.empty() ? view_title("live_memory") : s.title;
  f.caption = s.caption;
  f.x_label = "tokens in the sequence (N)";
  f.y_label = "KV-cache bytes (f32)";
  std::vector<std::string> info;
  char buf[256];
  if (m.has_speed) {
    std::snprintf(buf, sizeof buf,
                  "decode speed on this machine: %.1f tok/s with the KV cache, %.1f tok/s without "
                  "(every step recomputes the sequence): %.1fx",
                  m.cache_tok_s, m.none_tok_s, m.ratio);
    info.push_back(buf);
  } else {
    info.push_back("decode speed: press Measure to time cache vs no cache");
  }
  info.push_back(m.verdict);
  if (!m.paged_line.empty()) info.push_back(m.paged_line);
  const Rgba full_c = palette_color(t, 1), ring_c = palette_color(t, 0);
  const Rgba paged_c = palette_color(t, 2);
  const bool ring = !m.ring_held.empty();
  f.legend = {
      {full_c, "full cache: formula", true},
      {full_c, ring ? "full cache: filled (measured)" : "filled after the prompt's pass (measured)",
       false}};
  if (ring)
    f.legend.insert(f.legend.end(),
                    {{ring_c, "ring W=" + std::to_string(m.window) + ": formula", true},
                     {ring_c, "ring: filled (measured)", false}});
  if (!m.paged_alloc.empty())
    f.legend.push_back(
        {paged_c, "paged B=" + std::to_string(m.block) + ": blocks x block bytes (block table)",
         false});
  f.legend.push_back({t.muted, "allocated (measured: buffer capacity)", false});
  if (m.n.empty()) f.legend.clear();
  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  req.left = text_width("512 KiB", t.small_size) + 6;
  req.bottom = t.small_size * 1.8f;
  const Layout l = plan_layout(f, t, req);
  const Rect& P = l.plot;
  if (m.n.empty()) {
    decorate(f, t, l, info);
    return f;
  }
  const double x0 = 0, x1 = std::max<double>(m.n.back(), 1);
  double ymax = 1;
  for (const auto* v : {&m.full_alloc, &m.full_held, &m.ring_alloc, &m.full_theory, &m.paged_alloc})
    for (double y : *v) ymax = std::max(ymax, y);
  ymax *= 1.08;
  const AxisMap xa{x0, x1, false, P.x, P.x + P.w};
  const AxisMap ya{0, ymax, false, P.y + P.h, P.y};
  add_x_ticks(
      f, t, P, xa, nice_ticks(x0, x1, 8),
      [](double v) { return format_count(static_cast<int64_t>(v)); }, true);
  add_y_ticks(
      f, t, P, ya, nice_ticks(0, ymax, 6), [](double v) { return core::format_bytes(v); }, true);
  add_frame(f, t, P);
  f.marks.push_back(line_of(m.curve_n, m.full_curve, xa, ya, full_c, t.line_width, true));
  if (ring) f.marks.push_back(line_of(m.curve_n, m.ring_curve, xa, ya, ring_c, t.line_width, true));
  Polyline prompt_end;  // where generation started: everything left of it was prefilled
  prompt_end.pts = {{xa.map(m.n.front()), P.y}, {xa.map(m.n.front()), P.y + P.h}};
  prompt_end.color = t.grid;
  prompt_end.dashed = true;
  f.marks.push_back(prompt_end);
  f.marks.push_back(text_mark(t, xa.map(m.n.front()) - 4, P.y + t.small_size + 2,
                              ring ? "prompt prefilled | generated ->" : "prompt prefilled",
                              t.small_size, Anchor::Right));
  f.marks.push_back(line_of(m.n, m.full_alloc, xa, ya, t.muted, 1, false));
  if (ring) f.marks.push_back(line_of(m.n, m.ring_alloc, xa, ya, t.muted, 1, false));
  if (!m.paged_alloc.empty()) {  // blocks are taken whole: a staircase, not a slope
    Polyline stairs = line_of(m.n, m.paged_alloc, xa, ya, paged_c, t.line_width, false);
    std::vector<Point> pts;
    for (size_t i = 0; i < stairs.pts.size(); ++i) {
      if (i > 0) pts.push_back({stairs.pts[i].x, stairs.pts[i - 1].y});
      pts.push_back(stairs.pts[i]);
    }
    stairs.pts = std::move(pts);
    f.marks.push_back(stairs);
  }
  Markers fh, rh, ph;
  fh.color = full_c;
  rh.color = ring_c;
  ph.color = paged_c;
  for (size_t i = 0; i < m.n.size(); ++i) {
    fh.pts.push_back({xa.map(m.n[i]), ya.map(m.full_held[i])});
    if (ring) rh.pts.push_back({xa.map(m.n[i]), ya.map(m.ring_held[i])});
    if (i < m.paged_alloc.size()) ph.pts.push_back({xa.map(m.n[i]), ya.map(m.paged_alloc[i])});
  }
  f.marks.push_back(fh);
  if (m.from_pass) {  // one point: a line of it would not show
    Markers ah;
    ah.color = t.muted;
    ah.pts.push_back({xa.map(m.n[0]), ya.map(m.full_alloc[0])});
    f.marks.push_back(ah);
  }
  if (ring) f.marks.push_back(rh);
  if (!ph.pts.empty()) f.marks.push_back(ph);
  decorate(f, t, l, info);
  return f;
}

}  // namespace fig
