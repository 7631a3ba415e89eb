// Rolling buffer during generation: step or play greedy generation token by token and watch
// the ring of W slots fill, wrap and evict, next to the same generation with a full cache.
// W is the scene's window (the Mask section's slider).
#include <imgui.h>

#include <algorithm>

#include "app/app_state.h"
#include "app/panels/view_panel.h"

namespace app {
namespace {

void controls(AppState& s) {
  LiveUi& u = s.live;
  core::LiveSession& live = s.session.live();
  const auto r = s.session.live_result();
  ImGui::Text("ring W = window %d", s.session.run().ring_window);
  ImGui::SameLine();
  if (ImGui::Button("Step")) {
    u.playing = false;
    u.options.ring_step = -1;
    live.step(1);
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
    live.reset_generation();
  }
  if (r->generation && r->generation->steps.size() > 1) {
    ImGui::SameLine();
    const int last = static_cast<int>(r->generation->steps.size()) - 1;
    int st = u.options.ring_step < 0 ? last : std::min(u.options.ring_step, last);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
    if (ImGui::SliderInt("show step", &st, 0, last)) u.options.ring_step = st == last ? -1 : st;
  }
}

}  // namespace

Panel panel_live_ring() {
  return make_view_panel("live_ring", "Live rolling buffer", controls);
}

}  // namespace app
