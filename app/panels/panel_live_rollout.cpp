// Measured influence: attention rollout of the real model for the chosen query token, next to
// the theoretical reach of the receptive field, with where real flow stops.
#include <imgui.h>

#include "app/app_state.h"
#include "app/live_ui.h"

namespace app {
namespace {

void draw(AppState& s) {
  draw_live_header(s);
  LiveUi& u = live_ui(s);
  const auto r = u.session.result();
  const int n = r->pass ? static_cast<int>(r->pass->tokens.size()) : 1;
  core::Scene sc = s.scene;
  int q = std::clamp(sc.query, 0, n - 1);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 16);
  if (ImGui::SliderInt("query token", &q, 0, n - 1)) {
    sc.query = q;
    set_scene(s, sc);
  }
  if (r->pass && q < n) {
    ImGui::SameLine();
    ImGui::Text("'%s'", r->pass->labels[q].c_str());
  }
  LiveFigureCache& c = live_figure(s, fig::LiveViewId::Rollout);
  draw_live_figure(s, fig::LiveViewId::Rollout, c);
}

}  // namespace

Panel panel_live_rollout() {
  return live_panel(fig::LiveViewId::Rollout, "Live receptive field", draw);
}

}  // namespace app
