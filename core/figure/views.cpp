#include "core/figure/views.h"

#include <cmath>

namespace fig {

FigureSize resolve_size(FigureSize want, float default_width, float default_height) {
  return {want.width > 0 ? want.width : default_width,
          want.height > 0 ? want.height : default_height};
}

std::optional<HeatmapCell> heatmap_cell_at(const Heatmap& h, float x, float y) {
  if (h.rows <= 0 || h.cols <= 0 || h.w <= 0 || h.h <= 0) return std::nullopt;
  const float fx = (x - h.x) / h.w, fy = (y - h.y) / h.h;
  if (!(fx >= 0 && fx < 1 && fy >= 0 && fy < 1)) return std::nullopt;
  return HeatmapCell{static_cast<int>(std::floor(fy * h.rows)),
                     static_cast<int>(std::floor(fx * h.cols))};
}

const HoverArea* hover_area_at(const Figure& f, float x, float y) {
  for (auto it = f.hover_areas.rbegin(); it != f.hover_areas.rend(); ++it)
    if (x >= it->x && x < it->x + it->w && y >= it->y && y < it->y + it->h) return &*it;
  return nullptr;
}

const Heatmap* find_heatmap(const Figure& f, int id) {
  for (const Mark& m : f.marks)
    if (const Heatmap* h = std::get_if<Heatmap>(&m); h && h->id == id) return h;
  return nullptr;
}

}  // namespace fig
