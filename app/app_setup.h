// The app state a command line asks for: the scene (--scene, --theme), the focused view
// (--view), the layout, the lecture, the remembered export settings and the live prompts.
#pragma once

#include "app/app_args.h"

namespace app {

struct AppState;

// Fills `s` from `args`; prints the problem and returns 2 on a bad scene or view, else 0.
int setup_state(AppState& s, const AppArgs& args);

// After the window opened: backend line, presentation, export dialog.
void setup_after_window(AppState& s, const AppArgs& args, const std::string& backend_message);

}  // namespace app
