// Layout around the plot: title, info lines, axis labels, legend, colorbar and caption become
// ordinary marks, so the app and the exporter draw exactly the same decorations.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/figure/figure.h"
#include "core/figure/theme.h"

namespace fig {

// Where things go. Builders ask for a layout, draw their data inside `plot`, then call
// decorate() to add everything around it.
struct Layout {
  Rect plot;                         // the data area
  float info_y = 0;                  // baseline of the first info line (between title and plot)
  float legend_x = 0, legend_y = 0;  // top-left of the legend block
  float colorbar_x = 0, colorbar_y = 0, colorbar_h = 0;
  float caption_y = 0;  // baseline of the caption
  float x_label_y = 0;  // baseline of the x-axis label
  float y_label_x = 0;  // baseline x of the rotated y-axis label
};

// Room reserved for the pieces a figure has. `info_lines` lines of summary text sit between
// the title and the plot; `left`/`bottom` are extra margins for tick labels.
struct LayoutRequest {
  int info_lines = 0;
  float left = 0;    // tick labels on the left
  float bottom = 0;  // tick labels below
  float top = 0;     // labels above the plot (token indices)
  float right = 0;
};

// Uses f.width/height, f.title, f.caption, f.x_label/y_label, f.legend, f.colorbar.
Layout plan_layout(const Figure& f, const Theme& t, const LayoutRequest& req);

// Appends the title, info lines, axis labels, legend, colorbar (a 1x256 Heatmap with id
// kColorbarHeatmapId plus its end labels) and caption as marks.
void decorate(Figure& f, const Theme& t, const Layout& l, const std::vector<std::string>& info);

inline constexpr int kColorbarHeatmapId = -1;

// Width of a string in DejaVu Sans at `size` from the font's ASCII advance widths (kerning
// and non-ASCII glyphs are approximate; renderers measure exactly).
float text_width(const std::string& s, float size, bool bold = false);

// `size`, or less so that `s` fits in `max_width`.
float fit_text_size(const std::string& s, float size, float max_width, bool bold = false);

// Words of `text` in lines no wider than `max_width` at `size` ('\n' breaks a line; a word
// longer than the width gets a line of its own).
std::vector<std::string> wrap_words(const std::string& text, float size, float max_width);
// The same with the width measured by `width` (the exporter passes cairo's real advance).
std::vector<std::string> wrap_words(const std::string& text, float max_width,
                                    const std::function<float(const std::string&)>& width);

// Empty figure of the theme's colours and the given size.
Figure make_figure(const Theme& t, float width, float height);

// Text mark in the theme's foreground.
Text text_mark(const Theme& t, float x, float y, std::string s, float size,
               Anchor anchor = Anchor::Left);

}  // namespace fig
