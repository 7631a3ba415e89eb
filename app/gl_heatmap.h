// Heatmap marks as GL textures coloured by the colormap shader (shaders/heatmap.*). A texture
// is uploaded only when its (key, version) changes, so a large downsampled mask costs one
// upload per scene change and one quad per frame.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/figure/figure.h"

struct ImDrawList;

namespace app {

// One uploaded heatmap and the uniforms its draw callback sets (the callback reads this
// struct at render time, so it lives in a stable heap slot).
struct HeatmapTexture {
  unsigned int texture = 0;  // GL name, RG32F: value, masked flag
  int rows = 0, cols = 0;
  uint64_t version = 0;
  int last_used_frame = 0;
  fig::Colormap cmap = fig::Colormap::Viridis;
  fig::ValueScale scale = fig::ValueScale::Linear;
  float vmin = 0, vmax = 1, gamma = 1;
  fig::Rgba masked;
  struct GlHeatmaps* owner = nullptr;
};

struct GlHeatmaps {
  unsigned int program = 0;
  int loc_proj = -1, loc_values = -1, loc_lut = -1, loc_vmin = -1, loc_vmax = -1;
  int loc_gamma = -1, loc_scale = -1, loc_masked = -1;
  int attr_pos = -1, attr_uv = -1, attr_color = -1;
  unsigned int luts[3] = {0, 0, 0};  // per fig::Colormap, 256 x 1 RGBA8
  std::map<std::string, std::unique_ptr<HeatmapTexture>> textures;  // by draw key
  int max_texture = 16384;  // GL_MAX_TEXTURE_SIZE; larger grids are decimated to fit
  int frame = 0;
  int uploads = 0;    // total uploads so far (tests and --frame-stats report it)
  std::string error;  // shader compile/link log when the program failed
};

// Compiles the embedded shaders and uploads the LUTs. Returns false (with h.error set) when
// the GL context cannot run them.
bool gl_heatmaps_init(GlHeatmaps& h);
void gl_heatmaps_shutdown(GlHeatmaps& h);

// Drops textures not drawn for a few frames (panels that were closed).
void gl_heatmaps_end_frame(GlHeatmaps& h);

// Draws heatmap `m` into the screen rectangle [p0, p1]. `key` names the mark (panel and mark
// index) and `version` changes whenever its values do.
void draw_heatmap(GlHeatmaps& h, ImDrawList* dl, const fig::Heatmap& m, const std::string& key,
                  uint64_t version, float x0, float y0, float x1, float y1);

}  // namespace app
