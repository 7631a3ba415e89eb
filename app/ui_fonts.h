// Fonts in the ImGui atlas: DejaVu Sans baked at several pixel sizes, so figure text and the
// presentation mode's large type are rasterised at (close to) their drawn size, not scaled.
#pragma once

#include <string>
#include <vector>

struct ImFont;

namespace app {

struct UiFonts {
  ImFont* ui = nullptr;               // the controls
  ImFont* present_title = nullptr;    // presentation mode slide title
  ImFont* present_caption = nullptr;  // presentation mode caption
  std::vector<ImFont*> by_size;       // ascending FontSize, for figure text
  std::string path;                   // the TTF used ("" = ImGui's built-in font)
};

// Finds DejaVu Sans (fc-match, then the Debian path) and fills the atlas. `ui_px` is the
// control font size; presentation sizes scale with `screen_h`.
void load_fonts(UiFonts& f, float ui_px, float screen_h);

// The baked font that draws `px`-pixel text most crisply.
ImFont* font_for_size(const UiFonts& f, float px);

}  // namespace app
