#include "app/panels/view_panel.h"

#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "app/app_state.h"
#include "app/figure_draw.h"

namespace app {

fig::Theme screen_theme(const AppState& s) {
  return fig::theme_by_name(s.scene.theme);
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

// A scene's title and caption describe its own view (scene.view); the other panels keep
// their view's heading rather than repeat a title about something else.
core::Scene titled_for(const core::Scene& scene, fig::ViewId id) {
  if (scene.view == fig::view_name(id)) return scene;
  core::Scene s = scene;
  s.title.clear();
  s.caption.clear();
  return s;
}

}  // namespace

ViewCache& view_cache(AppState& s, fig::ViewId id, ImVec2 avail) {
  ViewCache& c = s.views[fig::view_name(id)];
  const fig::FigureSize size = layout_size(avail);
  const std::string theme_key = s.scene.theme + "/" + std::to_string(static_cast<int>(size.width)) +
                                "x" + std::to_string(static_cast<int>(size.height));
  if (c.built_for != s.scene_version || c.theme != theme_key) {
    const auto t0 = std::chrono::steady_clock::now();
    c.figure = fig::build_view_figure(id, titled_for(s.scene, id), screen_theme(s), size);
    s.figure_build_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    c.built_for = s.scene_version;
    c.theme = theme_key;
    c.version = ++s.figure_counter;
  }
  return c;
}

void draw_view_panel(AppState& s, fig::ViewId id, const HoverText& hover) {
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  ViewCache& c = view_cache(s, id, avail);
  const FigureDrawContext ctx{s.heatmaps, s.fonts, fig::view_name(id), c.version};
  const FigureCanvas canvas = draw_figure(c.figure, avail, ctx);
  if (!canvas.hovered || !hover) return;
  for (const fig::Mark& m : c.figure.marks) {
    const auto* h = std::get_if<fig::Heatmap>(&m);
    if (!h || h->id <= 0) continue;  // the colorbar (id -1) has nothing to explain
    const auto cell = fig::heatmap_cell_at(*h, canvas.mouse.x, canvas.mouse.y);
    if (!cell) continue;
    if (c.hover_for != s.scene_version) {
      c.mask.reset();
      c.reach.reset();
      c.ring.reset();
      c.hover_for = s.scene_version;
    }
    const std::string text = hover(s, c, h->id, cell->row, cell->col);
    if (!text.empty()) {
      // Outline the cell the text is about.
      const float cw = h->w / static_cast<float>(h->cols), ch = h->h / static_cast<float>(h->rows);
      const float sc = canvas.scale;
      const ImVec2 a(canvas.origin.x + (h->x + cw * static_cast<float>(cell->col)) * sc,
                     canvas.origin.y + (h->y + ch * static_cast<float>(cell->row)) * sc);
      const ImVec2 b(a.x + std::max(cw * sc, 2.0f), a.y + std::max(ch * sc, 2.0f));
      // Black inside white: visible on every colormap entry and on both themes.
      ImDrawList* dl = ImGui::GetWindowDrawList();
      dl->AddRect(ImVec2(a.x - 1.5f, a.y - 1.5f), ImVec2(b.x + 1.5f, b.y + 1.5f), IM_COL32_WHITE, 0,
                  0, 2.0f);
      dl->AddRect(a, b, IM_COL32_BLACK, 0, 0, 1.5f);
      ImGui::BeginTooltip();
      ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32.0f);
      ImGui::TextUnformatted(text.c_str());
      ImGui::PopTextWrapPos();
      ImGui::EndTooltip();
    }
    break;
  }
}

Panel make_view_panel(fig::ViewId id, HoverText hover) {
  Panel p;
  p.id = fig::view_name(id);
  p.title = fig::view_title(id);
  p.draw = [id, hover](AppState& s) { draw_view_panel(s, id, hover); };
  p.figure = [id](AppState& s, const fig::Theme& theme) -> std::optional<fig::Figure> {
    return fig::build_view_figure(id, titled_for(s.scene, id), theme);
  };
  p.figure_at = [id](AppState& s, const fig::Theme& theme,
                     fig::FigureSize size) -> std::optional<fig::Figure> {
    return fig::build_view_figure(id, titled_for(s.scene, id), theme, size);
  };
  return p;
}

}  // namespace app
