// Shared body of every view panel, analytic or live: the cached figure from the registry
// entry drawn to fill the panel, and the entry's hover text for the hovered heatmap cell,
// read from data already built (hover never builds).
#pragma once

#include <imgui.h>

#include <string>

#include "app/panels/panels.h"
#include "app/view_cache.h"
#include "core/figure/view_registry.h"

namespace app {

struct AppState;

// Lays the view out for the rest of the window and draws it, with hover text; returns the
// cache entry (its canvas says where the figure landed).
ViewCache& draw_view(AppState& s, const fig::ViewEntry& e);

// A Panel for a registry entry, titled `tab` ("" = the entry's title): `controls` (may be
// empty) draws the view's own widgets above the figure; `after` (may be empty) draws
// overlays after it.
Panel make_view_panel(const std::string& id, const std::string& tab = "",
                      std::function<void(AppState&)> controls = {},
                      std::function<void(AppState&, ViewCache&)> after = {});

// The app's screen theme (dark or light) from the scene.
fig::Theme screen_theme(const AppState& s);

// A wrapped tooltip (records the text for --print-status).
void show_tooltip(AppState& s, const std::string& text);

}  // namespace app
