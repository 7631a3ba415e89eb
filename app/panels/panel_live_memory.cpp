// KV memory, live: the bytes the caches really hold step by step during the ring generation,
// over the formula, and decode tokens/s with the cache vs without, measured on this machine.
#include <imgui.h>

#include "app/app_state.h"
#include "app/live_ui.h"

namespace app {
namespace {

void draw(AppState& s) {
  draw_live_header(s);
  LiveUi& u = live_ui(s);
  if (ImGui::Button("Measure tokens/s (cache vs none)")) u.session.measure_speed();
  ImGui::SameLine();
  if (ImGui::Button("Generate 8 tokens")) u.session.step(8);
  LiveFigureCache& c = live_figure(s, fig::LiveViewId::Memory);
  draw_live_figure(s, fig::LiveViewId::Memory, c);
}

}  // namespace

Panel panel_live_memory() {
  return live_panel(fig::LiveViewId::Memory, "Live KV memory", draw);
}

}  // namespace app
