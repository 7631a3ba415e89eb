// GQA on the real model: per K/V group, the query heads that share it side by side; the pool
// button re-runs the model with the K/V heads mean-pooled (SmolLM2 3 -> 1 = MQA) and shows
// the changed maps and the perplexity change on assets/texts/ppl.txt.
#include <imgui.h>

#include "app/app_state.h"
#include "app/panels/view_panel.h"

namespace app {
namespace {

void controls(AppState& s) {
  const auto r = s.session.live_result();
  core::Scene sc = s.editor.scene;
  const int L = r->config ? r->config->n_layers : 1;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
  if (ImGui::SliderInt("layer", &sc.layer, 0, L - 1)) set_scene(s, sc);
  ImGui::SameLine();
  const bool pooled =
      sc.variant.kv_heads > 0 && r->config && sc.variant.kv_heads != r->config->n_kv_heads;
  if (!pooled) {
    if (ImGui::Button("Pool K/V heads to 1 (MQA)")) {
      sc.variant.kv_heads = 1;
      set_scene(s, sc);
    }
  } else if (ImGui::Button("Back to native K/V heads")) {
    sc.variant.kv_heads = 0;
    set_scene(s, sc);
  }
}

}  // namespace

Panel panel_live_groups() {
  return make_view_panel("live_groups", "Live GQA", controls);
}

}  // namespace app
