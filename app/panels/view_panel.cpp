#include "app/panels/view_panel.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "app/app_state.h"
#include "app/figure_draw.h"
#include "app/live_ui.h"

namespace app {

fig::Theme screen_theme(const AppState& s) {
  return fig::theme_by_name(s.editor.scene.theme);
}

namespace {

// Figures are laid out at the panel's size in pixels, so their type stays at its design size
// however the panel is shaped; a tile smaller than this is laid out larger and scaled down.
constexpr float kMinLayoutW = 560, kMinLayoutH = 420;

fig::FigureSize layout_size(ImVec2 avail) {
  const float w = std::max(avail.x, 16.0f), h = std::max(avail.y, 16.0f);
  // A big panel is laid out smaller and scaled up (type grows with the panel, like a UI
  // scale); a small tile is laid out larger and scaled down.
  const float down = std::clamp(std::min(w / 1000.0f, h / 700.0f), 1.0f, 2.0f);
  const float up = std::max({1.0f / down, kMinLayoutW / w, kMinLayoutH / h});
  // Whole pixels, so a sub-pixel change of the window does not rebuild.
  return {std::floor(w * up), std::floor(h * up)};
}

// Black inside white: visible on every colormap entry and on both themes.
void outline_cell(const fig::Heatmap& h, const fig::HeatmapCell& cell, const FigureCanvas& cv) {
  const float cw = h.w / static_cast<float>(h.cols), ch = h.h / static_cast<float>(h.rows);
  const float sc = cv.scale;
  const ImVec2 a(cv.origin.x + (h.x + cw * static_cast<float>(cell.col)) * sc,
                 cv.origin.y + (h.y + ch * static_cast<float>(cell.row)) * sc);
  const ImVec2 b(a.x + std::max(cw * sc, 2.0f), a.y + std::max(ch * sc, 2.0f));
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRect(ImVec2(a.x - 1.5f, a.y - 1.5f), ImVec2(b.x + 1.5f, b.y + 1.5f), IM_COL32_WHITE, 0, 0,
              2.0f);
  dl->AddRect(a, b, IM_COL32_BLACK, 0, 0, 1.5f);
}

// The outline of a hover area: the box it explains.
void outline_area(const fig::HoverArea& a, const FigureCanvas& cv) {
  const float sc = cv.scale;
  const ImVec2 p(cv.origin.x + a.x * sc, cv.origin.y + a.y * sc);
  const ImVec2 q(p.x + std::max(a.w * sc, 2.0f), p.y + std::max(a.h * sc, 2.0f));
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRect(ImVec2(p.x - 1.5f, p.y - 1.5f), ImVec2(q.x + 1.5f, q.y + 1.5f), IM_COL32_WHITE, 0, 0,
              2.0f);
  dl->AddRect(p, q, IM_COL32_BLACK, 0, 0, 1.5f);
}

void hover(AppState& s, const fig::ViewEntry& e, const ViewCache& c) {
  if (!c.canvas.hovered || !e.describe || !c.data.data) return;
  const core::Scene scene = titled_for(s.session.scene(), e.id);
  const fig::ViewInput in = view_input(s, e, scene);
  if (const fig::HoverArea* a = fig::hover_area_at(c.figure, c.canvas.mouse.x, c.canvas.mouse.y)) {
    const std::string text = e.describe(c.data, in, a->id, a->row, a->col);
    if (!text.empty()) {
      outline_area(*a, c.canvas);
      show_tooltip(s, text);
      return;
    }
  }
  for (const fig::Mark& m : c.figure.marks) {
    const auto* h = std::get_if<fig::Heatmap>(&m);
    if (!h || h->id <= 0) continue;  // the colorbar (id -1) has nothing to explain
    const auto cell = fig::heatmap_cell_at(*h, c.canvas.mouse.x, c.canvas.mouse.y);
    if (!cell) continue;
    const std::string text = e.describe(c.data, in, h->id, cell->row, cell->col);
    if (!text.empty()) {
      outline_cell(*h, *cell, c.canvas);
      show_tooltip(s, text);
    }
    break;
  }
}

}  // namespace

void show_tooltip(AppState& s, const std::string& text) {
  if (text.empty()) return;
  s.frame.hover_text = text;
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32.0f);
  ImGui::TextUnformatted(text.c_str());
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
}

ViewCache& draw_view(AppState& s, const fig::ViewEntry& e) {
  if (e.live) s.session.live();  // a live view on screen runs the model
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  ViewCache& c = cached_view(s, e, layout_size(avail), screen_theme(s));
  const FigureDrawContext ctx{s.gl.heatmaps, s.gl.fonts, e.id, c.version};
  c.canvas = draw_figure(c.figure, avail, ctx);
  hover(s, e, c);
  return c;
}

Panel make_view_panel(const std::string& id, const std::string& tab,
                      std::function<void(AppState&)> controls,
                      std::function<void(AppState&, ViewCache&)> after) {
  const fig::ViewEntry* e = fig::find_view(id);
  Panel p;
  p.id = id;
  p.title = !tab.empty() ? tab : e ? e->title : id;
  p.draw = [e, controls, after](AppState& s) {
    if (e && e->live) draw_live_progress(s);
    if (controls) controls(s);
    if (!e) return;
    ViewCache& c = draw_view(s, *e);
    if (after) after(s, c);
  };
  p.exports = e != nullptr;
  return p;
}

}  // namespace app
