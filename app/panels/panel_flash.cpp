// FlashAttention: the registry's flash view, FA1/FA2 at hand, and the switch that traces the
// online softmax on the live model's Q, K, V of the chosen layer and head instead of
// synthetic ones (it loads the scene's model as the live views do).
#include <imgui.h>

#include <algorithm>

#include "app/app_state.h"
#include "app/panels/view_panel.h"
#include "core/views/flash_view.h"

namespace app {
namespace {

// The trace's step shown in detail: -1 shows them all (a view option, not a scene key).
void step_slider(AppState& s) {
  const auto it = s.caches.by_view.find("flash");
  const core::FlashView* v =
      it == s.caches.by_view.end() ? nullptr : fig::view_data<core::FlashView>(it->second.data);
  if (!v || v->trace.steps.empty()) return;
  int& k = s.live.options.flash_step;
  const int n = static_cast<int>(v->trace.steps.size());
  k = std::min(k, n - 1);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 9);
  ImGui::SliderInt("trace step", &k, -1, n - 1, k < 0 ? "all" : "key tile %d");
}

void controls(AppState& s) {
  core::Scene sc = s.editor.scene;
  if (ImGui::RadioButton("FA1", sc.flash.version == 1)) {
    sc.flash.version = 1;
    set_scene(s, sc);
  }
  ImGui::SameLine();
  if (ImGui::RadioButton("FA2", sc.flash.version == 2)) {
    sc.flash.version = 2;
    set_scene(s, sc);
  }
  ImGui::SameLine();
  if (!s.live.flash_trace && !s.session.live_started()) {
    if (ImGui::Button("Trace the model's Q, K, V")) s.live.flash_trace = true;
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("loads %s and runs the online softmax on its real rows", sc.model.c_str());
    step_slider(s);
    return;
  }
  // The model runs: keep the chosen layer and head captured, and let them be chosen here.
  s.session.live().trace_head(sc.layer, sc.head);
  const auto r = s.session.live_result();
  if (!r->config) return step_slider(s);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
  bool changed = ImGui::SliderInt("layer", &sc.layer, 0, r->config->n_layers - 1);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
  changed |= ImGui::SliderInt("head", &sc.head, 0, r->config->n_heads - 1);
  if (changed) set_scene(s, sc);
  step_slider(s);
}

}  // namespace

Panel panel_flash() {
  return make_view_panel("flash", "", controls);
}

}  // namespace app
