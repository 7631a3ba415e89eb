// Scene save/load from the app: a path field and two buttons; errors are shown, not thrown.
#pragma once

#include <string>

namespace app {

struct AppState;

void draw_scene_io(AppState& s);

// Loads `path` into the state. Returns false and sets s.scene_message on a SceneError.
bool load_scene_into(AppState& s, const std::string& path);
bool save_scene_from(AppState& s, const std::string& path);

}  // namespace app
