// Attention mask panel: the N x N grid (downsampled beyond 512 cells a side) and, on hover,
// which pair a cell is and why it is visible or masked.
#include "app/app_state.h"
#include "app/panels/view_panel.h"

namespace app {

Panel panel_mask() {
  return make_view_panel(fig::ViewId::Mask,
                         [](AppState& s, ViewCache& c, int id, int row, int col) {
                           if (id != fig::kMaskHeatmapId) return std::string();
                           if (!c.mask) c.mask = core::build_mask_grid(s.scene);
                           return core::describe_mask_grid_cell(s.scene, *c.mask, row, col);
                         });
}

}  // namespace app
