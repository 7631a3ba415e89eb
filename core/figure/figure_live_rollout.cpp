#include <algorithm>
#include <cmath>
#include <limits>

#include "core/figure/axes.h"
#include "core/figure/colormap.h"
#include "core/figure/decorate.h"
#include "core/figure/live_views.h"
#include "core/figure/view_registry.h"

namespace fig {

Figure figure_live_rollout(const core::LiveRollout& ro, const core::Scene& s, const Theme& t) {
  Figure f = make_figure(t, kLiveFigureWidth, kLiveFigureHeight);
  f.title = s.title.empty() ? view_title("live_rollout") : s.title;
  f.caption = s.caption;
  f.x_label = "input position (token)";
  f.y_label = "after layer";
  const int L = static_cast<int>(ro.layers.size());
  const int n = std::max(1, ro.n);
  std::vector<std::string> info = {
      "query q=" + std::to_string(ro.query) + " '" +
          (ro.query < static_cast<int>(ro.labels.size()) ? ro.labels[ro.query] : "") +
          "'; setting: " + ro.setting +
          "; rollout = mean over heads, half residual, multiplied through the layers",
      ro.verdict};
  const Colormap cmap = parse_colormap(s.colormap).value_or(Colormap::Viridis);
  f.colorbar.present = true;
  f.colorbar.cmap = cmap;
  f.colorbar.scale = ValueScale::Log;
  f.colorbar.vmin = 1e-4f;
  f.colorbar.vmax = 1;
  f.colorbar.label = "influence (share of the query's mix)";
  f.legend.push_back({t.highlight, "theoretical reach l*D+1", true});
  f.legend.push_back({palette_color(t, 1), "99% of measured influence", false});
  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  req.left = t.small_size * 2.5f;
  req.bottom = t.small_size * 1.8f;
  const Layout l = plan_layout(f, t, req);
  const Rect& P = l.plot;

  Heatmap h;
  h.x = P.x;
  h.y = P.y;
  h.w = P.w;
  h.h = P.h;
  h.rows = L;
  h.cols = n;
  h.cmap = cmap;
  h.scale = ValueScale::Log;
  h.vmin = 1e-4f;
  h.vmax = 1;
  h.masked = t.background;  // exactly zero influence: nothing can flow from there
  h.id = kLiveRolloutHeatmapId;
  for (const core::RolloutLayer& rl : ro.layers)
    for (int k = 0; k < n; ++k) {
      const float v = k < static_cast<int>(rl.influence.size()) ? rl.influence[k] : 0.0f;
      h.values.push_back(v > 0 ? v : std::numeric_limits<float>::quiet_NaN());
    }
  f.marks.push_back(h);
  add_frame(f, t, P);
  const float cw = P.w / n, rh = P.h / std::max(1, L);
  const int every = std::max(1, static_cast<int>(std::ceil(t.small_size * 1.3f / rh)));
  for (int i = 0; i < L; ++i)
    if ((i + 1) % every == 0 || i == 0)
      f.marks.push_back(text_mark(t, P.x - 5, P.y + (i + 0.5f) * rh + t.small_size * 0.35f,
                                  std::to_string(i + 1), t.small_size, Anchor::Right));
  const AxisMap xa{0, static_cast<double>(n), false, P.x, P.x + P.w};
  add_x_ticks(f, t, P, xa, nice_ticks(0, n, 8),
              [](double v) { return format_count(static_cast<int64_t>(v)); });

  Polyline reach, m99;
  reach.color = t.highlight;
  reach.width = t.line_width;
  reach.dashed = true;
  m99.color = palette_color(t, 1);
  m99.width = t.line_width;
  for (int i = 0; i < L; ++i) {
    const core::RolloutLayer& rl = ro.layers[i];
    reach.pts.push_back({P.x + rl.reach_lo * cw, P.y + i * rh});
    reach.pts.push_back({P.x + rl.reach_lo * cw, P.y + (i + 1) * rh});
    m99.pts.push_back({P.x + rl.mass99_lo * cw, P.y + i * rh});
    m99.pts.push_back({P.x + rl.mass99_lo * cw, P.y + (i + 1) * rh});
  }
  f.marks.push_back(reach);
  f.marks.push_back(m99);
  Polyline ql;
  ql.pts = {{P.x + (ro.query + 0.5f) * cw, P.y}, {P.x + (ro.query + 0.5f) * cw, P.y + P.h}};
  ql.color = t.foreground;
  f.marks.push_back(ql);
  decorate(f, t, l, info);
  return f;
}

}  // namespace fig
