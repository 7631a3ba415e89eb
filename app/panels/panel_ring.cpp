// Rolling-buffer panel: the W cache slots at the current step and the chunk mask; hover tells
// the position a slot holds and, in the chunk mask, why a pair is visible or not.
#include "app/app_state.h"
#include "app/panels/view_panel.h"

namespace app {

Panel panel_ring() {
  return make_view_panel(
      fig::ViewId::Ring, [](AppState& s, ViewCache& c, int id, int row, int col) {
        if (id != fig::kRingSlotsHeatmapId && id != fig::kRingChunkMaskHeatmapId)
          return std::string();
        if (!c.ring) c.ring = core::build_ring_state(s.scene);
        if (id == fig::kRingSlotsHeatmapId) return core::describe_ring_slot(*c.ring, col);
        return core::describe_ring_chunk_cell(s.scene, c.ring->chunk_mask, row, col);
      });
}

}  // namespace app
