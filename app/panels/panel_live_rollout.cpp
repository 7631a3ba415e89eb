// Measured influence: attention rollout of the real model for the chosen query token, next to
// the theoretical reach of the receptive field, with where real flow stops.
#include <imgui.h>

#include <algorithm>

#include "app/app_state.h"
#include "app/panels/view_panel.h"

namespace app {
namespace {

void controls(AppState& s) {
  const auto r = s.session.live_result();
  const int n = r->pass ? static_cast<int>(r->pass->tokens.size()) : 1;
  core::Scene sc = s.editor.scene;
  int q = std::clamp(sc.query, 0, n - 1);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 16);
  if (ImGui::SliderInt("query token", &q, 0, n - 1)) {
    sc.query = std::min(q, sc.seq_len - 1);
    set_scene(s, sc);
  }
  if (r->pass && q < n) {
    ImGui::SameLine();
    ImGui::Text("'%s'", r->pass->labels[q].c_str());
  }
}

}  // namespace

Panel panel_live_rollout() {
  return make_view_panel("live_rollout", "Live receptive field", controls);
}

}  // namespace app
