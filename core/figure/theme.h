// Colours and type sizes of a figure. The app and the exporter take the same Theme, so a
// screenshot and an exported slide match.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/figure/figure.h"

namespace fig {

struct Theme {
  std::string name;  // "dark", "light" or "slides"
  Rgba background;
  Rgba foreground;            // text, axes
  Rgba grid;                  // grid lines, cell outlines
  Rgba muted;                 // secondary text, empty slots
  Rgba masked;                // masked heatmap cells (NaN)
  Rgba highlight;             // the selected thing: query row, write pointer, seq_len mark
  std::vector<Rgba> palette;  // categorical, colour-blind safe (Okabe-Ito)
  float font_size = 12;       // tick labels and body text
  float title_size = 16;
  float label_size = 13;  // axis labels
  float small_size = 10;  // token indices, cell labels
  float line_width = 1.5f;
};

Theme theme_dark();
Theme theme_light();
Theme theme_slides();  // light with larger type, for projectors

std::vector<std::string> theme_names();  // "dark", "light", "slides"

// Unknown names fall back to dark (the scene loader already rejects them).
Theme theme_by_name(std::string_view name);

// Categorical colour i (wraps around the palette).
Rgba palette_color(const Theme& t, int i);

// Colour from 8-bit channels.
Rgba rgb8(int r, int g, int b, float a = 1);

}  // namespace fig
