// Rolling buffer during generation: step or play greedy generation token by token and watch
// the ring of W slots fill, wrap and evict, next to the same generation with a full cache.
#include <imgui.h>

#include "app/app_state.h"
#include "app/live_ui.h"

namespace app {
namespace {

void draw(AppState& s) {
  draw_live_header(s);
  LiveUi& u = live_ui(s);
  const auto r = u.session.result();
  core::Scene sc = s.scene;
  if (sc.variant.window == 0) {
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
    if (ImGui::SliderInt("ring W", &sc.window, 1, 64)) set_scene(s, sc);
    ImGui::SameLine();
  } else {
    ImGui::Text("ring W = live window %d", sc.variant.window);
    ImGui::SameLine();
  }
  if (ImGui::Button("Step")) {
    u.playing = false;
    u.options.ring_step = -1;
    u.session.step(1);
  }
  ImGui::SameLine();
  if (ImGui::Button(u.playing ? "Pause" : "Play")) {
    u.playing = !u.playing;
    u.options.ring_step = -1;
  }
  ImGui::SameLine();
  if (ImGui::Button("Reset")) {
    u.playing = false;
    u.options.ring_step = -1;
    u.session.reset_generation();
  }
  if (r->generation && r->generation->steps.size() > 1) {
    ImGui::SameLine();
    const int last = static_cast<int>(r->generation->steps.size()) - 1;
    int st = u.options.ring_step < 0 ? last : std::min(u.options.ring_step, last);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
    if (ImGui::SliderInt("show step", &st, 0, last)) u.options.ring_step = st == last ? -1 : st;
  }
  LiveFigureCache& c = live_figure(s, fig::LiveViewId::Ring);
  draw_live_figure(s, fig::LiveViewId::Ring, c);
}

}  // namespace

Panel panel_live_ring() {
  return live_panel(fig::LiveViewId::Ring, "Live rolling buffer", draw);
}

}  // namespace app
