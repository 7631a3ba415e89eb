#include "app/panels/view_panel.h"

#include <imgui.h>

#include <chrono>

#include "app/app_state.h"
#include "app/figure_draw.h"

namespace app {

fig::Theme screen_theme(const AppState& s) {
  return fig::theme_by_name(s.scene.theme);
}

namespace {

// Tiled views are drawn at about 40% of their figure size, so their type is laid out larger
// to stay readable (the figure builders place labels from the theme's sizes).
float type_boost(const AppState& s) {
  return s.layout == Layout::Grid ? 1.8f : 1.0f;
}

fig::Theme panel_theme(const AppState& s) {
  fig::Theme t = screen_theme(s);
  const float k = type_boost(s);
  t.font_size *= k;
  t.title_size *= k;
  t.label_size *= k;
  t.small_size *= k;
  return t;
}

}  // namespace

ViewCache& view_cache(AppState& s, fig::ViewId id) {
  ViewCache& c = s.views[fig::view_name(id)];
  const std::string theme_key = s.scene.theme + (s.layout == Layout::Grid ? "/grid" : "");
  if (c.built_for != s.scene_version || c.theme != theme_key) {
    const auto t0 = std::chrono::steady_clock::now();
    c.figure = fig::build_view_figure(id, s.scene, panel_theme(s));
    s.figure_build_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    c.built_for = s.scene_version;
    c.theme = theme_key;
    c.version = ++s.figure_counter;
  }
  return c;
}

void draw_view_panel(AppState& s, fig::ViewId id, const HoverText& hover) {
  ViewCache& c = view_cache(s, id);
  const FigureDrawContext ctx{s.heatmaps, s.fonts, fig::view_name(id), c.version};
  const FigureCanvas canvas = draw_figure(c.figure, ImGui::GetContentRegionAvail(), ctx);
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
    return fig::build_view_figure(id, s.scene, theme);
  };
  return p;
}

}  // namespace app
