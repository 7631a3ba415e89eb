#include <algorithm>
#include <cmath>

#include "core/figure/colormap.h"
#include "core/figure/decorate.h"
#include "core/figure/live_views.h"
#include "core/figure/view_registry.h"

namespace fig {

Figure figure_live_groups(const core::LiveGroups& g, const core::Scene& s, const Theme& t) {
  Figure f = make_figure(t, kLiveFigureWidth, kLiveFigureHeight);
  f.title = s.title.empty() ? view_title("live_groups") : s.title;
  f.caption = s.caption;
  const Colormap cmap = parse_colormap(s.colormap).value_or(Colormap::Viridis);
  const ValueScale scale = s.log_scale ? ValueScale::Log : ValueScale::Linear;
  std::vector<std::string> info = {
      "layer " + std::to_string(g.layer) + ", " + std::to_string(g.n) +
          " tokens; each box is one query head, boxes in a frame share one K/V head",
      g.verdict};
  f.colorbar.present = true;
  f.colorbar.cmap = cmap;
  f.colorbar.scale = scale;
  f.colorbar.vmin = scale == ValueScale::Log ? 1e-3f : 0;
  f.colorbar.vmax = 1;
  f.colorbar.label = "attention probability";
  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  const Layout l = plan_layout(f, t, req);
  const Rect& P = l.plot;
  const int R = std::max(1, static_cast<int>(g.rows.size()));
  const float title_h = t.font_size * 1.8f, label_h = t.small_size * 1.6f;
  const float row_h = P.h / R;
  for (int ri = 0; ri < static_cast<int>(g.rows.size()); ++ri) {
    const core::LiveGroupRow& row = g.rows[ri];
    const float y = P.y + ri * row_h;
    Text tt = text_mark(t, P.x, y + t.font_size, row.title, t.font_size);
    tt.bold = true;
    f.marks.push_back(tt);
    const int groups = std::max(1, row.kv_heads);
    const float group_gap = 18, head_gap = 4;
    const int H = static_cast<int>(row.maps.size());
    const float avail_w = P.w - group_gap * (groups - 1) - head_gap * (H - groups);
    const float side =
        std::max(8.0f, std::min(avail_w / std::max(1, H), row_h - title_h - label_h * 2 - 8));
    float x = P.x;
    int prev_kv = -1;
    float group_x0 = x;
    auto close_group = [&](int kv, float x_end) {
      Rect fr{group_x0 - 3,
              y + title_h + label_h - 3,
              x_end - group_x0 + 6,
              side + 6,
              {0, 0, 0, 0},
              palette_color(t, kv),
              2};
      f.marks.push_back(fr);
      f.marks.push_back(text_mark(t, (group_x0 + x_end) / 2, y + title_h + label_h * 2 + side + 6,
                                  "KV head " + std::to_string(kv), t.small_size, Anchor::Center));
    };
    for (int i = 0; i < H; ++i) {
      const core::LiveHeadMap& m = row.maps[i];
      if (prev_kv >= 0 && m.kv_head != prev_kv) {
        close_group(prev_kv, x - head_gap);
        x += group_gap - head_gap;
        group_x0 = x;
      }
      prev_kv = m.kv_head;
      Heatmap h;
      h.x = x;
      h.y = y + title_h + label_h;
      h.w = side;
      h.h = side;
      h.rows = g.thumb;
      h.cols = g.thumb;
      h.values = m.values;
      h.vmin = f.colorbar.vmin;
      h.vmax = 1;
      h.cmap = cmap;
      h.scale = scale;
      h.masked = t.background;
      h.id = kLiveGroupsHeatmapId + ri * 64 + m.head;
      f.marks.push_back(h);
      f.marks.push_back(text_mark(t, x + side / 2, y + title_h + label_h - 5,
                                  "head " + std::to_string(m.head), t.small_size, Anchor::Center));
      x += side + head_gap;
    }
    if (prev_kv >= 0) close_group(prev_kv, x - head_gap);
  }
  decorate(f, t, l, info);
  return f;
}

}  // namespace fig
