// The panel list. A panel is an id, a title, a draw function (called inside an ImGui window
// the shell opened) and, when it has something to export, the fig::Figure it shows. Add a
// panel by writing panels/panel_<name>.cpp with a `Panel panel_<name>()` factory and one line
// in make_panels() (panels.cpp); the shell adds the tab, the Export button and Ctrl+E.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/figure/figure.h"
#include "core/figure/live_views.h"
#include "core/figure/theme.h"
#include "core/figure/views.h"

namespace app {

struct AppState;

struct Panel {
  std::string id;        // "mask"; --view takes it, Ctrl+E exports the focused one
  std::string title;     // tab / window title
  bool sidebar = false;  // true for the controls: drawn in the left column, not as a view
  std::function<void(AppState&)> draw;
  // The figure to export in `theme` at its default size; empty when the panel has nothing to
  // export.
  std::function<std::optional<fig::Figure>(AppState&, const fig::Theme&)> figure;
  // Optional: the same figure laid out at `size` (0 = default), so an export at another
  // width/height is re-laid out rather than scaled. When empty, `figure` is used.
  std::function<std::optional<fig::Figure>(AppState&, const fig::Theme&, fig::FigureSize)>
      figure_at;
};

std::vector<Panel> make_panels();

// A live-model panel: `draw` plus the export figure that every live view builds the same way
// from the session's latest result (panel_live_common.cpp).
Panel live_panel(fig::LiveViewId id, std::string title, std::function<void(AppState&)> draw);

// Factories, one per file.
Panel panel_controls();
Panel panel_mask();
Panel panel_receptive_field();
Panel panel_ring();
Panel panel_groups();
Panel panel_kv_memory();
Panel panel_live_attention();
Panel panel_live_rollout();
Panel panel_live_ring();
Panel panel_live_groups();
Panel panel_live_memory();

}  // namespace app
