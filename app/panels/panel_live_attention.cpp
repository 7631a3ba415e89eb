// Live attention: every layer × head as small multiples (click one to zoom), the selected
// head (or the mean / max over a layer's heads) as a large map with token labels, and the
// difference to the native run. Hovering a token outlines its row and column everywhere.
#include <imgui.h>

#include <algorithm>

#include "app/app_state.h"
#include "app/panels/view_panel.h"
#include "core/views/live_attention.h"

namespace app {
namespace {

void draw_overlay(const std::vector<fig::Mark>& marks, const FigureCanvas& cv) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  for (const fig::Mark& m : marks)
    if (const auto* r = std::get_if<fig::Rect>(&m)) {
      const ImVec2 a(cv.origin.x + r->x * cv.scale, cv.origin.y + r->y * cv.scale);
      const ImVec2 b(a.x + r->w * cv.scale, a.y + r->h * cv.scale);
      dl->AddRect(a, b, to_imcolor(r->stroke), 0, 0, r->stroke_width);
    }
}

void controls(AppState& s) {
  LiveUi& u = s.live;
  const auto r = s.session.live_result();
  core::Scene sc = s.editor.scene;
  bool changed = false;
  const int L = r->config ? r->config->n_layers : 1, H = r->config ? r->config->n_heads : 1;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
  changed |= ImGui::SliderInt("layer", &sc.layer, 0, L - 1);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  changed |= ImGui::SliderInt("head", &sc.head, 0, H - 1);
  ImGui::SameLine();
  int agg = static_cast<int>(u.options.aggregate);
  ImGui::RadioButton("one head", &agg, 0);
  ImGui::SameLine();
  ImGui::RadioButton("mean over heads", &agg, 1);
  ImGui::SameLine();
  ImGui::RadioButton("max over heads", &agg, 2);
  u.options.aggregate = static_cast<core::LiveAggregate>(agg);
  ImGui::SameLine();
  const bool native_same = !r->pass || r->pass == r->native;
  ImGui::BeginDisabled(native_same);
  ImGui::Checkbox("difference vs native", &u.options.difference);
  ImGui::EndDisabled();
  ImGui::SameLine();
  changed |= ImGui::Checkbox("log colour scale", &sc.log_scale);
  if (changed) set_scene(s, sc);
}

// Thumbnail hover (click to zoom) and the token row/column highlight.
void after(AppState& s, ViewCache& c) {
  LiveUi& u = s.live;
  const auto* a = fig::view_data<core::LiveAttention>(c.data);
  u.hover_token = -1;
  if (!a || !c.canvas.hovered) return;
  const float mx = c.canvas.mouse.x, my = c.canvas.mouse.y;
  if (auto hit = fig::live_thumb_at(c.figure, *a, mx, my)) {
    show_tooltip(s, "layer " + std::to_string(hit->layer) + ", head " + std::to_string(hit->head) +
                        " -- click to zoom");
    if (ImGui::IsMouseClicked(0)) {
      core::Scene z = s.editor.scene;
      z.layer = hit->layer;
      z.head = hit->head;
      u.options.aggregate = core::LiveAggregate::Head;
      set_scene(s, z);
    }
  } else if (const fig::Heatmap* h = fig::find_heatmap(c.figure, fig::kLiveAttentionHeatmapId)) {
    const float cell = h->w / std::max(1, h->grid_cols > 0 ? h->grid_cols : h->cols);
    if (auto cellq = fig::heatmap_cell_at(*h, mx, my)) {
      u.hover_token = cellq->row;
    } else if (mx < h->x && mx > h->x - 140 && my >= h->y && my < h->y + h->h) {
      u.hover_token = static_cast<int>((my - h->y) / cell);  // a query label
    } else if (my < h->y && my > h->y - 140 && mx >= h->x && mx < h->x + h->w) {
      u.hover_token = static_cast<int>((mx - h->x) / cell);  // a key label
    }
    if (u.hover_token >= a->n) u.hover_token = -1;
  }
  if (u.hover_token >= 0)
    draw_overlay(fig::live_attention_highlight(c.figure, *a, u.hover_token, screen_theme(s)),
                 c.canvas);
}

}  // namespace

Panel panel_live_attention() {
  return make_view_panel("live_attention", "Live attention", controls, after);
}

}  // namespace app
