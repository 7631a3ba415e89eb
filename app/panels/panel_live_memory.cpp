// KV memory, live: the bytes the caches really hold step by step during the ring generation,
// over the formula, and decode tokens/s with the cache vs without, measured on this machine.
#include <imgui.h>

#include "app/app_state.h"
#include "app/panels/view_panel.h"

namespace app {
namespace {

void controls(AppState& s) {
  core::LiveSession& live = s.session.live();
  if (ImGui::Button("Measure tokens/s (cache vs none)")) live.measure_speed();
  ImGui::SameLine();
  if (ImGui::Button("Generate 8 tokens")) live.step(8);
}

}  // namespace

Panel panel_live_memory() {
  return make_view_panel("live_memory", "Live KV memory", controls);
}

}  // namespace app
