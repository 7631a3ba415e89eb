// Colormaps as 256-entry lookup tables. The same LUT is uploaded to the app's heatmap shader
// and used by the cairo exporter, so a value has one colour everywhere.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "core/figure/figure.h"

namespace fig {

using ColormapLut = std::array<Rgba, 256>;

// Viridis and cividis (perceptually uniform, colour-blind safe) and a blue-white-red
// diverging map (ColorBrewer RdBu, colour-blind safe), interpolated from published anchors.
const ColormapLut& colormap_lut(Colormap cmap);

// Colour of t in [0, 1] (clamped), nearest LUT entry.
Rgba colormap_color(Colormap cmap, float t);

// Maps a value to [0, 1] under a scale: linear, log10 (values <= 0 map to 0) or a gamma
// curve t^gamma. NaN stays NaN (the caller draws it as masked).
float scale_value(float v, float vmin, float vmax, ValueScale scale, float gamma = 1.0f);

// Heatmap cell colour, NaN -> h.masked.
Rgba heatmap_color(const Heatmap& h, float v);

const char* colormap_name(Colormap cmap);  // "viridis", "cividis", "diverging"
std::optional<Colormap> parse_colormap(std::string_view name);

}  // namespace fig
