// Export from the app: the Export... button and its popup on every panel, and Ctrl+E for the
// focused panel. Both call core::exp::export_figure on the panel's Figure and remember the
// folder, name and format (app_config.h).
#pragma once

#include <string>

namespace app {

struct AppState;
struct Panel;

// The path Ctrl+E writes for `panel_id`: the last folder, the last name when it was chosen
// for this panel (else the panel id), and the format's extension.
std::string export_path_for(const AppState& s, const std::string& panel_id);

// Exports the focused panel with the remembered settings. Sets s.exports.message; returns
// false on failure (the message says why).
bool export_focused(AppState& s);

// Exports `panel` to `path` (the format comes from the settings), remembers the folder and
// name and persists them.
bool export_panel_to(AppState& s, const Panel& panel, const std::string& path);

// Small button at the top of a view panel; opens the popup for it.
void draw_export_button(AppState& s, const Panel& panel);

// The popup itself (call once per frame, outside panel windows).
void draw_export_popup(AppState& s);

}  // namespace app
