// The figure builders of the analytic views: each turns its view data (core/views) and the
// Scene into the Figure that both the app and the exporter draw. The list of views, with
// their ids and titles, is the registry (view_registry.h).
#pragma once

#include <optional>
#include <vector>

#include "core/figure/figure.h"
#include "core/figure/theme.h"
#include "core/scene/scene.h"
#include "core/views/head_groups.h"
#include "core/views/kv_memory.h"
#include "core/views/mask_grid.h"
#include "core/views/receptive_field.h"
#include "core/views/ring_state.h"

namespace fig {

// Default figure size in figure units (the exporter's default PNG size at scale 1).
inline constexpr float kFigureWidth = 960;
inline constexpr float kFigureHeight = 720;

// Size a figure is laid out at; 0 = the view's default (kFigureWidth x kFigureHeight, or
// less for short views). The exporter's --width/--height and the app's panel size use it.
struct FigureSize {
  float width = 0, height = 0;
};

// The default size when `want` leaves a side at 0.
FigureSize resolve_size(FigureSize want, float default_width, float default_height);

// Per-view builders (one file each: figure_<view>.cpp).
Figure figure_mask(const core::MaskGrid& g, const core::Scene& s, const Theme& t,
                   FigureSize size = {});
Figure figure_receptive_field(const core::ReceptiveField& rf, const core::Scene& s, const Theme& t,
                              FigureSize size = {});
Figure figure_ring(const core::RingState& r, const core::Scene& s, const Theme& t,
                   FigureSize size = {});
Figure figure_groups(const core::HeadGroups& g, const core::Scene& s, const Theme& t,
                     FigureSize size = {});
Figure figure_kv_memory(const core::KvMemorySeries& m, const core::Scene& s, const Theme& t,
                        FigureSize size = {});

// Heatmap ids, so the app can map a hovered pixel back to what it shows.
inline constexpr int kMaskHeatmapId = 1;           // (row, col) of MaskGrid
inline constexpr int kReachHeatmapId = 2;          // (layer, position bin) of ReceptiveField
inline constexpr int kRingSlotsHeatmapId = 3;      // (0, slot) when W is too large for boxes
inline constexpr int kRingChunkMaskHeatmapId = 4;  // (row, col) of RingChunkMask

// The heatmap cell under figure point (x, y), or nullopt outside it.
struct HeatmapCell {
  int row = 0, col = 0;
};
std::optional<HeatmapCell> heatmap_cell_at(const Heatmap& h, float x, float y);

// First heatmap mark with this id, or nullptr.
const Heatmap* find_heatmap(const Figure& f, int id);

// The hover area under (x, y) in figure units, the last added first; null when none.
const HoverArea* hover_area_at(const Figure& f, float x, float y);

}  // namespace fig
