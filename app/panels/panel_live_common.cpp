#include <optional>
#include <string>
#include <utility>

#include "app/app_state.h"
#include "app/live_ui.h"
#include "app/panels/panels.h"

namespace app {

Panel live_panel(fig::LiveViewId id, std::string title, std::function<void(AppState&)> draw) {
  Panel p;
  p.id = fig::live_view_name(id);
  p.title = std::move(title);
  p.draw = std::move(draw);
  p.figure = [id](AppState& s, const fig::Theme& t) -> std::optional<fig::Figure> {
    if (!s.live) return std::nullopt;
    return fig::build_live_figure(id, s.scene, *s.live->session.result(), t, s.live->options);
  };
  return p;
}

}  // namespace app
