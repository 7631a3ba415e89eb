// Live attention: every layer × head as small multiples (click one to zoom), the selected
// head (or the mean / max over a layer's heads) as a large map with token labels, and the
// difference to the native run. Hovering a token outlines its row and column everywhere.
#include <imgui.h>

#include "app/app_state.h"
#include "app/live_ui.h"
#include "app/panels/view_panel.h"
#include "core/figure/views.h"

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

void tooltip(const std::string& text) {
  if (text.empty()) return;
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32.0f);
  ImGui::TextUnformatted(text.c_str());
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
}

void draw(AppState& s) {
  draw_live_header(s);
  LiveUi& u = live_ui(s);
  const auto r = u.session.result();
  core::Scene sc = s.scene;
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

  LiveFigureCache& c = live_figure(s, fig::LiveViewId::Attention);
  const FigureCanvas cv = draw_live_figure(s, fig::LiveViewId::Attention, c);
  if (!c.attention) return;
  const core::LiveAttention& a = *c.attention;
  u.hover_token = -1;
  if (cv.hovered) {
    const float mx = cv.mouse.x, my = cv.mouse.y;
    if (auto hit = fig::live_thumb_at(c.figure, a, mx, my)) {
      tooltip("layer " + std::to_string(hit->layer) + ", head " + std::to_string(hit->head) +
              " -- click to zoom");
      if (ImGui::IsMouseClicked(0)) {
        core::Scene z = s.scene;
        z.layer = hit->layer;
        z.head = hit->head;
        u.options.aggregate = core::LiveAggregate::Head;
        set_scene(s, z);
      }
    } else if (const fig::Heatmap* h = fig::find_heatmap(c.figure, fig::kLiveAttentionHeatmapId)) {
      const float cell = h->w / std::max(1, h->cols);
      if (auto cellq = fig::heatmap_cell_at(*h, mx, my)) {
        u.hover_token = cellq->row;
        tooltip(core::describe_live_attention_cell(a, cellq->row, cellq->col));
      } else if (mx < h->x && mx > h->x - 140 && my >= h->y && my < h->y + h->h) {
        u.hover_token = static_cast<int>((my - h->y) / cell);  // a query label
      } else if (my < h->y && my > h->y - 140 && mx >= h->x && mx < h->x + h->w) {
        u.hover_token = static_cast<int>((mx - h->x) / cell);  // a key label
      }
      if (u.hover_token >= a.n) u.hover_token = -1;
    }
  }
  if (u.hover_token >= 0)
    draw_overlay(fig::live_attention_highlight(c.figure, a, u.hover_token, screen_theme(s)), cv);
}

}  // namespace

Panel panel_live_attention() {
  return live_panel(fig::LiveViewId::Attention, fig::live_view_title(fig::LiveViewId::Attention),
                    draw);
}

}  // namespace app
