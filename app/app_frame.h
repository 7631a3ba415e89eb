// One UI frame: the controls column, the view panels (tabs or tiled), the status bar, the
// export popup and the global keys (F5 presentation, Ctrl+E export); or, in presentation
// mode, only the slide.
#pragma once

namespace app {

struct AppState;

void draw_app_frame(AppState& s);

}  // namespace app
