#include "core/figure/live_views.h"

#include <cmath>

#include "core/figure/decorate.h"

namespace fig {

Figure figure_live_placeholder(const std::string& title, const std::string& message,
                               const Theme& t) {
  Figure f = make_figure(t, kLiveFigureWidth, kLiveFigureHeight);
  f.title = title;
  const Layout l = plan_layout(f, t, LayoutRequest{});
  Text m = text_mark(t, l.plot.x + l.plot.w / 2, l.plot.y + l.plot.h / 2, message, t.font_size,
                     Anchor::Center);
  m.color = t.muted;
  f.marks.push_back(m);
  decorate(f, t, l, {});
  return f;
}

}  // namespace fig
