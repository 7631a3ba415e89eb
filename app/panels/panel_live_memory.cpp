// KV memory, live: the bytes the caches really hold step by step during the ring generation,
// over the formula, and decode tokens/s with the cache vs without, measured on this machine.
// "paged cache" switches the live run to variant.cache paged with blocks of `block` tokens.
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
  // The paged cache mode (variant.cache "paged"): the chart then reads the block tables.
  ImGui::SameLine();
  core::Scene sc = s.editor.scene;
  bool paged = sc.variant.cache == core::CacheMode::Paged;
  if (ImGui::Checkbox("paged cache", &paged)) {
    sc.variant.cache = paged ? core::CacheMode::Paged : core::CacheMode::Full;
    set_scene(s, sc);
  }
  if (!paged) return;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
  if (ImGui::SliderInt("block", &sc.variant.block, 1, 64)) set_scene(s, sc);
}

}  // namespace

Panel panel_live_memory() {
  return make_view_panel("live_memory", "Live KV memory", controls);
}

}  // namespace app
