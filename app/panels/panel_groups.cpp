// GQA head-groups panel: query heads coloured by the K/V head they share.
#include "app/app_state.h"
#include "app/panels/view_panel.h"

namespace app {

Panel panel_groups() {
  return make_view_panel(fig::ViewId::Groups, nullptr);
}

}  // namespace app
