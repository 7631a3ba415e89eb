// The panel list. A panel is an id, a title and a draw function (called inside an ImGui
// window the shell opened). A view panel shows one entry of the view registry
// (core/figure/view_registry.h) through make_view_panel (view_panel.h), adding only its own
// widgets; the shell adds the tab, the Export button and Ctrl+E, which export the entry's
// figure. Add a panel with a `Panel panel_<name>()` factory and one line in make_panels().
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace app {

struct AppState;

struct Panel {
  std::string id;        // "mask"; --view takes it, Ctrl+E exports the focused one
  std::string title;     // tab / window title
  bool sidebar = false;  // true for the controls: drawn in the left column, not as a view
  bool exports = false;  // a registry view: the Export button and Ctrl+E write its figure
  std::function<void(AppState&)> draw;
};

std::vector<Panel> make_panels();

// Factories of the panels with widgets of their own (one file each).
Panel panel_controls();
Panel panel_flash();
Panel panel_live_attention();
Panel panel_live_rollout();
Panel panel_live_ring();
Panel panel_live_groups();
Panel panel_live_memory();

}  // namespace app
