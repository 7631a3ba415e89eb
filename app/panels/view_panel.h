// Shared body of the analytic view panels: the cached figure, drawing it to fill the panel,
// and a tooltip for the hovered heatmap cell. Each panel_<view>.cpp adds only its hover text.
#pragma once

#include <imgui.h>

#include <functional>
#include <optional>
#include <string>

#include "app/panels/panels.h"
#include "core/figure/views.h"

namespace app {

struct AppState;
struct ViewCache;

// Hover text for cell (row, col) of the heatmap with id `heatmap_id`; "" for no tooltip.
using HoverText =
    std::function<std::string(AppState&, ViewCache&, int heatmap_id, int row, int col)>;

// The figure of `id` for the current scene and theme laid out for a panel of `avail` pixels,
// rebuilt only when one of them changed.
ViewCache& view_cache(AppState& s, fig::ViewId id, ImVec2 avail);

// Draws the view's figure into the rest of the window, with hover text.
void draw_view_panel(AppState& s, fig::ViewId id, const HoverText& hover);

// A Panel for an analytic view: draw + export figure.
Panel make_view_panel(fig::ViewId id, HoverText hover);

// The app's screen theme (dark or light) from the scene.
fig::Theme screen_theme(const AppState& s);

}  // namespace app
