#include "app/app_state.h"

#include <sstream>

namespace app {

void set_scene(AppState& s, const core::Scene& scene) {
  SceneEditor& e = s.editor;
  e.scene = scene;
  e.edit = scene;
  e.edit_error.clear();
  std::ostringstream seg;
  for (size_t i = 0; i < scene.segments.size(); ++i) seg << (i ? ", " : "") << scene.segments[i];
  e.segments_text = seg.str();
  s.present.cache_slide = -1;
}

const Panel* find_panel(const AppState& s, const std::string& id) {
  for (const Panel& p : s.panels)
    if (p.id == id) return &p;
  return nullptr;
}

}  // namespace app
