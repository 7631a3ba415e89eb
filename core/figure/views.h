// Registry of the analytic views: their ids, names and the one function that turns a Scene
// into the Figure that both the app and the exporter draw.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/figure/figure.h"
#include "core/figure/theme.h"
#include "core/scene/scene.h"

namespace fig {

enum class ViewId { Mask, ReceptiveField, Ring, Groups, KvMemory };

const std::vector<ViewId>& view_ids();
const char* view_name(ViewId id);   // "mask", "receptive_field", "ring", "groups", "kv_memory"
const char* view_title(ViewId id);  // "Attention mask", ...
std::optional<ViewId> parse_view(std::string_view name);

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

Figure build_view_figure(ViewId id, const core::Scene& scene, const Theme& theme);
Figure build_view_figure(ViewId id, const core::Scene& scene, const Theme& theme, FigureSize size);

// Per-view builders (one file each: figure_<view>.cpp).
Figure figure_mask(const core::Scene& scene, const Theme& theme, FigureSize size = {});
Figure figure_receptive_field(const core::Scene& scene, const Theme& theme, FigureSize size = {});
Figure figure_ring(const core::Scene& scene, const Theme& theme, FigureSize size = {});
Figure figure_groups(const core::Scene& scene, const Theme& theme, FigureSize size = {});
Figure figure_kv_memory(const core::Scene& scene, const Theme& theme, FigureSize size = {});

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

}  // namespace fig
