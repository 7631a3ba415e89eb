// Draws a fig::Figure onto a cairo context. Shared by every output format (PNG, SVG, PDF and the
// multi-page deck), so the three files show the same pixels. Private to core/export.
#pragma once

#include <cairo.h>

#include <string>
#include <vector>

#include "core/figure/figure.h"

namespace core::exp::detail {

// Font settings that make glyph positions independent of the output device (no hinting, no
// hinted metrics), so a PNG and a rasterised PDF line up.
void set_font_options(cairo_t* cr);

// Selects DejaVu Sans (bold or regular) at `size` figure units.
void select_font(cairo_t* cr, float size, bool bold);

// Caption lines wrapped to `max_width` at `size` (measured with the real font).
std::vector<std::string> wrap_text(cairo_t* cr, const std::string& text, float size,
                                   float max_width);

// Extra height a caption needs below the figure when no caption marks are present.
float caption_block_height(const fig::Figure& f, cairo_t* cr, float width);

// Paints the background and every mark of `f` at figure units (the caller sets the scale).
// `with_caption`: caption marks are drawn (and, when the figure has none, fig.caption is
// wrapped below it, inside the extra height caption_block_height() reserved).
void draw_figure(cairo_t* cr, const fig::Figure& f, bool with_caption);

}  // namespace core::exp::detail
