#include "app/app_setup.h"

#include <cstdio>
#include <string>
#include <vector>

#include "app/app_config.h"
#include "app/app_state.h"
#include "app/live_ui.h"
#include "app/presentation.h"
#include "core/scene/scene_json.h"

namespace app {

int setup_state(AppState& s, const AppArgs& args) {
  s.panels = make_panels();
  live_ui_init(s.live);
  set_scene(s, core::Scene{});
  if (!args.scene.empty()) {
    try {
      std::vector<std::string> warnings;
      set_scene(s, core::load_scene(args.scene, warnings));
      for (const std::string& w : warnings)
        std::fprintf(stderr, "attnlab: %s: warning: %s\n", args.scene.c_str(), w.c_str());
      s.editor.path = args.scene;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "attnlab: %s\n", e.what());
      return 2;
    }
  }
  if (!args.theme.empty()) {
    core::Scene themed = s.editor.scene;
    themed.theme = args.theme;
    set_scene(s, themed);
  }
  s.focused = s.editor.scene.view;
  if (!args.view.empty()) {
    if (!find_panel(s, args.view)) {
      std::fprintf(stderr, "attnlab: --view: unknown panel '%s'\n", args.view.c_str());
      return 2;
    }
    s.focused = args.view;
  }
  if (args.grid) s.layout = Layout::Grid;
  s.present.lecture_path = args.lecture.empty() ? default_lecture_path() : args.lecture;
  s.present.slide = args.slide;
  s.exports.config_path = default_config_path();
  std::string err;
  if (!load_config(s.exports.config_path, s.exports.settings, err)) {
    s.exports.message = "settings ignored: " + err;
    s.exports.error = true;
  }
  return 0;
}

void setup_after_window(AppState& s, const AppArgs& args, const std::string& backend_message) {
  // The status bar prints "backend: ...", and the message already starts with it.
  s.backend =
      backend_message.rfind("backend: ", 0) == 0 ? backend_message.substr(9) : backend_message;
  std::fprintf(stderr, "attnlab: %s\n", backend_message.c_str());
  if (args.present) enter_presentation(s);
  if (args.export_dialog) {
    s.exports.popup_panel = s.focused;
    s.exports.open_request = true;
  }
}

}  // namespace app
