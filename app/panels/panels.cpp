#include "app/panels/panels.h"

namespace app {

// Display order. Live-model panels go after the analytic views.
std::vector<Panel> make_panels() {
  return {
      panel_controls(),  panel_mask(),        panel_receptive_field(), panel_ring(),
      panel_groups(),    panel_kv_memory(),   panel_live_attention(),  panel_live_rollout(),
      panel_live_ring(), panel_live_groups(), panel_live_memory(),
  };
}

}  // namespace app
