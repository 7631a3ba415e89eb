// Export: draws a fig::Figure with cairo into PNG, SVG or PDF. The same Figure the app draws,
// so a slide cannot disagree with the screen. Writes are atomic (temp file + rename); PNG and
// SVG are byte-identical across runs and PDF carries fixed metadata (no creation date).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/figure/figure.h"

namespace core::exp {

enum class Format { Png, Svg, Pdf };

const char* format_name(Format f);                              // "png", "svg", "pdf"
std::optional<Format> parse_format(std::string_view s);         // accepts the names above
std::optional<Format> format_from_path(std::string_view path);  // by extension

// The page is width x height figure units (0 = the figure's own size). A Figure arrives laid
// out, so a different page size scales it uniformly to fit and centres it; to lay a view out
// at the page size, build it with fig::build_view_figure(..., FigureSize{w, h}) as the CLI
// does. A PNG is rasterised at `scale` pixels per unit (1..8; 4 gives 3840 px from 960).
// Largest PNG drawn: 2^26 pixels (8192 x 8192, a 256 MiB image surface). A 3840 x 2160
// slide is 8.3 M; the cap keeps --width 16384 --height 16384 --scale 2 from asking for GBs.
inline constexpr int64_t kMaxPngPixels = int64_t{1} << 26;

struct ExportOptions {
  Format format = Format::Png;
  float width = 0;
  float height = 0;
  float scale = 1;
  // Draw the caption: the caption lines decorate() laid out (false leaves their room empty;
  // build the figure without a caption to give it to the plot), or, for a figure without
  // caption marks, fig.caption wrapped in a block added below the figure.
  bool caption = true;
};

// Thrown with a message that names the path and what went wrong; nothing is left behind.
struct ExportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Writes the figure to `path`. Throws ExportError (unwritable or missing folder, bad size,
// cairo failure); an existing file at `path` is untouched unless the write succeeds.
void export_figure(const fig::Figure& figure, const std::string& path, const ExportOptions& opts);

// The bytes export_figure would write (PNG, SVG or PDF), without touching the file system.
std::string render_figure(const fig::Figure& figure, const ExportOptions& opts);

// One PDF page per figure (a lecture deck), written atomically like export_figure. Every page
// has one size, opts.width x opts.height or else the largest page any figure asks for (a
// smaller figure is centred on it); opts.format is ignored.
void export_pdf_deck(const std::vector<fig::Figure>& pages, const std::string& path,
                     const ExportOptions& opts);

// Page size in figure units for these options: the figure's own size (plus room for a caption
// that has no caption marks), or width x height when both are set. The figure is scaled
// uniformly to fit the page and centred.
struct PageSize {
  float width = 0, height = 0;
};
PageSize page_size(const fig::Figure& figure, const ExportOptions& opts);

// A text mark whose measured box (DejaVu Sans, the exporter's own metrics) leaves the figure.
struct TextOverflow {
  std::string text;
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // the box in figure units
};
// Texts that would be clipped at the figure's edges; empty for a well laid-out figure.
std::vector<TextOverflow> texts_outside(const fig::Figure& figure);

}  // namespace core::exp
