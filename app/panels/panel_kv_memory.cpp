// KV-cache memory panel: bytes against sequence length for MHA, GQA, MQA and the rolling
// buffer, with the scene's seq_len marked.
#include "app/app_state.h"
#include "app/panels/view_panel.h"

namespace app {

Panel panel_kv_memory() {
  return make_view_panel(fig::ViewId::KvMemory, nullptr);
}

}  // namespace app
