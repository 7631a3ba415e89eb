// Draws any fig::Figure into the current ImGui window with ImDrawList, scaled to fit a box
// and keeping its aspect ratio. Heatmaps go through the GL colormap shader (gl_heatmap.h).
#pragma once

#include <imgui.h>

#include <cstdint>
#include <string>

#include "app/gl_heatmap.h"
#include "app/ui_fonts.h"
#include "core/figure/figure.h"

namespace app {

// Where the figure landed, and where the mouse is in figure units when it hovers it.
struct FigureCanvas {
  ImVec2 origin{0, 0};  // screen position of figure point (0, 0)
  float scale = 1;      // screen pixels per figure unit
  bool hovered = false;
  fig::Point mouse;  // figure units, valid when hovered
};

struct FigureDrawContext {
  GlHeatmaps& heatmaps;
  const UiFonts& fonts;
  std::string key;       // names this figure's textures (panel id)
  uint64_t version = 0;  // changes whenever the figure is rebuilt
};

// Reserves `size` (an item, so hover works like any widget), centres the scaled figure in it
// and draws every mark in order.
FigureCanvas draw_figure(const fig::Figure& f, ImVec2 size, const FigureDrawContext& ctx);

ImU32 to_imcolor(const fig::Rgba& c);

}  // namespace app
