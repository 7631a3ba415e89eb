// Export: draws a fig::Figure with cairo into PNG, SVG or PDF. The same Figure the app draws,
// so a slide cannot disagree with the screen. Writes are atomic (temp file + rename); PNG and
// SVG are byte-identical across runs and PDF carries fixed metadata (no creation date).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/figure/figure.h"

namespace core::exp {

enum class Format { Png, Svg, Pdf };

const char* format_name(Format f);                       // "png", "svg", "pdf"
std::optional<Format> parse_format(std::string_view s);  // accepts the names above
std::optional<Format> format_from_path(std::string_view path);  // by extension

// The figure is laid out at width x height figure units (0 = the figure's own size) and a
// PNG is rasterised at `scale` pixels per unit (1..8; 4 gives a 3840 px wide slide from 960).
struct ExportOptions {
  Format format = Format::Png;
  float width = 0;
  float height = 0;
  float scale = 1;
  bool caption = true;  // draw fig.caption under the plot when it is set
};

// Thrown with a message that names the path and what went wrong; nothing is left behind.
struct ExportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Writes the figure to `path`. Throws ExportError (unwritable or missing folder, bad size,
// cairo failure); an existing file at `path` is untouched unless the write succeeds.
void export_figure(const fig::Figure& figure, const std::string& path, const ExportOptions& opts);

}  // namespace core::exp
