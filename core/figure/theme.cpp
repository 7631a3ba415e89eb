#include "core/figure/theme.h"

namespace fig {
namespace {

// Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour
// vision deficiencies. Black is left out because it vanishes on the dark theme.
std::vector<Rgba> okabe_ito() {
  return {rgb8(0xE6, 0x9F, 0x00), rgb8(0x56, 0xB4, 0xE9), rgb8(0x00, 0x9E, 0x73),
          rgb8(0xF0, 0xE4, 0x42), rgb8(0x00, 0x72, 0xB2), rgb8(0xD5, 0x5E, 0x00),
          rgb8(0xCC, 0x79, 0xA7)};
}

}  // namespace

Rgba rgb8(int r, int g, int b, float a) {
  return Rgba{r / 255.0f, g / 255.0f, b / 255.0f, a};
}

Theme theme_dark() {
  Theme t;
  t.name = "dark";
  t.background = rgb8(0x1e, 0x1f, 0x24);
  t.foreground = rgb8(0xe8, 0xe8, 0xea);
  t.grid = rgb8(0x4a, 0x4c, 0x55);
  t.muted = rgb8(0x8f, 0x92, 0x9c);
  t.masked = rgb8(0x2c, 0x2e, 0x35);
  t.highlight = rgb8(0xE6, 0x9F, 0x00);
  t.palette = okabe_ito();
  return t;
}

Theme theme_light() {
  Theme t;
  t.name = "light";
  t.background = rgb8(0xff, 0xff, 0xff);
  t.foreground = rgb8(0x1d, 0x1d, 0x1f);
  t.grid = rgb8(0xc8, 0xc9, 0xce);
  t.muted = rgb8(0x6b, 0x6e, 0x78);
  t.masked = rgb8(0xee, 0xee, 0xf1);
  t.highlight = rgb8(0xD5, 0x5E, 0x00);
  t.palette = okabe_ito();
  // Yellow is unreadable as a line on white; move it to the end of the cycle.
  t.palette.erase(t.palette.begin() + 3);
  t.palette.push_back(rgb8(0xF0, 0xE4, 0x42));
  return t;
}

Theme theme_slides() {
  Theme t = theme_light();
  t.name = "slides";
  // Sized for a 1280 x 720 slide seen from the back of a room: ticks at 2.2% of the height.
  t.font_size = 19;
  t.title_size = 28;
  t.label_size = 20;
  t.small_size = 16;
  t.line_width = 2.5f;
  return t;
}

std::vector<std::string> theme_names() {
  return {"dark", "light", "slides"};
}

Theme theme_by_name(std::string_view name) {
  if (name == "light") return theme_light();
  if (name == "slides") return theme_slides();
  return theme_dark();
}

Rgba palette_color(const Theme& t, int i) {
  if (t.palette.empty()) return t.foreground;
  const int n = static_cast<int>(t.palette.size());
  return t.palette[((i % n) + n) % n];
}

}  // namespace fig
