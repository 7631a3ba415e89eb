// Receptive-field panel: reach of the query position after each layer; hover names the layer,
// the positions of a bin and whether they reach the query.
#include "app/app_state.h"
#include "app/panels/view_panel.h"

namespace app {

Panel panel_receptive_field() {
  return make_view_panel(fig::ViewId::ReceptiveField,
                         [](AppState& s, ViewCache& c, int id, int row, int col) {
                           if (id != fig::kReachHeatmapId) return std::string();
                           if (!c.reach) c.reach = core::build_receptive_field(s.scene);
                           return core::describe_reach_cell(*c.reach, row, col);
                         });
}

}  // namespace app
