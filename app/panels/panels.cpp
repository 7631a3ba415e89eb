#include "app/panels/panels.h"

#include "app/panels/view_panel.h"

namespace app {

// Display order: the controls column, the analytic views (plain registry views: figure and
// hover), then the live views with their own widgets.
std::vector<Panel> make_panels() {
  std::vector<Panel> p = {panel_controls()};
  for (const fig::ViewEntry* e : fig::analytic_views())
    p.push_back(e->id == "flash" ? panel_flash() : make_view_panel(e->id));
  for (Panel live : {panel_live_attention(), panel_live_rollout(), panel_live_ring(),
                     panel_live_groups(), panel_live_memory()})
    p.push_back(std::move(live));
  return p;
}

}  // namespace app
