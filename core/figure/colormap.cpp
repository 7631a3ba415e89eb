#include "core/figure/colormap.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <vector>

#include "core/figure/theme.h"

namespace fig {
namespace {

// Evenly spaced anchors from the published maps, linearly interpolated in sRGB. Ten anchors
// keep every LUT entry within a couple of 8-bit steps of the original 256-entry tables, which
// is below what a viewer (or a colour-blind simulation) can tell apart.
ColormapLut build_lut(std::initializer_list<unsigned> hex) {
  std::vector<Rgba> a;
  for (unsigned h : hex) a.push_back(rgb8((h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff));
  ColormapLut lut;
  const int n = static_cast<int>(a.size());
  for (int i = 0; i < 256; ++i) {
    const float pos = i / 255.0f * (n - 1);
    const int j = std::min(n - 2, static_cast<int>(pos));
    const float f = pos - j;
    lut[i] = Rgba{a[j].r + (a[j + 1].r - a[j].r) * f, a[j].g + (a[j + 1].g - a[j].g) * f,
                  a[j].b + (a[j + 1].b - a[j].b) * f, 1.0f};
  }
  return lut;
}

}  // namespace

const ColormapLut& colormap_lut(Colormap cmap) {
  // matplotlib viridis sampled at 9 even points (van der Walt & Smith).
  static const ColormapLut viridis = build_lut(
      {0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c, 0x28ae80, 0x5ec962, 0xaddc30, 0xfde725});
  // cividis (Nunez, Anderton & Renslow 2018) sampled at 10 even points.
  static const ColormapLut cividis = build_lut({0x00204d, 0x00336f, 0x39486b, 0x575c6d, 0x707173,
                                                0x8a8779, 0xa69d75, 0xc4b56c, 0xe4cf5b, 0xffea46});
  // ColorBrewer RdBu (11 classes) reversed, so low = blue, high = red, middle = near white.
  static const ColormapLut diverging =
      build_lut({0x053061, 0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7, 0xfddbc7, 0xf4a582,
                 0xd6604d, 0xb2182b, 0x67001f});
  switch (cmap) {
    case Colormap::Viridis:
      return viridis;
    case Colormap::Cividis:
      return cividis;
    case Colormap::Diverging:
      return diverging;
  }
  return viridis;
}

Rgba colormap_color(Colormap cmap, float t) {
  if (!(t >= 0.0f)) t = 0.0f;  // also catches NaN
  if (t > 1.0f) t = 1.0f;
  return colormap_lut(cmap)[static_cast<int>(std::lround(t * 255.0f))];
}

float scale_value(float v, float vmin, float vmax, ValueScale scale, float gamma) {
  if (std::isnan(v)) return v;
  float t = 0;
  if (scale == ValueScale::Log) {
    if (v <= 0 || vmax <= 0) return 0.0f;
    const float lo = std::log10(vmin > 0 ? vmin : vmax * 1e-6f), hi = std::log10(vmax);
    t = hi > lo ? (std::log10(v) - lo) / (hi - lo) : 1.0f;
  } else {
    t = vmax > vmin ? (v - vmin) / (vmax - vmin) : 1.0f;
  }
  t = t < 0 ? 0 : (t > 1 ? 1 : t);
  if (scale == ValueScale::Gamma && gamma > 0) t = std::pow(t, gamma);
  return t;
}

Rgba heatmap_color(const Heatmap& h, float v) {
  if (std::isnan(v)) return h.masked;
  return colormap_color(h.cmap, scale_value(v, h.vmin, h.vmax, h.scale, h.gamma));
}

const char* colormap_name(Colormap cmap) {
  switch (cmap) {
    case Colormap::Viridis:
      return "viridis";
    case Colormap::Cividis:
      return "cividis";
    case Colormap::Diverging:
      return "diverging";
  }
  return "viridis";
}

std::optional<Colormap> parse_colormap(std::string_view name) {
  for (Colormap c : {Colormap::Viridis, Colormap::Cividis, Colormap::Diverging})
    if (name == colormap_name(c)) return c;
  return std::nullopt;
}

}  // namespace fig
