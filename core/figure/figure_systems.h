// Figure builders of the efficient-attention views (part 6): FlashAttention tiling,
// PagedAttention, Multi-head Latent Attention and sparse patterns. One file each,
// figure_<view>.cpp, with the signature every view figure has.
#pragma once

#include <string>

#include "core/figure/figure.h"
#include "core/figure/theme.h"
#include "core/figure/views.h"
#include "core/scene/scene.h"
#include "core/views/flash_view.h"
#include "core/views/mla.h"
#include "core/views/paged_view.h"
#include "core/views/sparse_patterns.h"

namespace fig {

// Each takes its view data (core/views) and the scene, as the view registry's entries do.
// `step`: the trace's key tile shown in detail (marked on the chart, its row of the table
// highlighted and spelled out); -1 = none.
Figure figure_flash(const core::FlashView& v, const core::Scene& scene, const Theme& theme,
                    FigureSize size = {}, int step = -1);
Figure figure_paged(const core::PagedView& v, const core::Scene& scene, const Theme& theme,
                    FigureSize size = {});
Figure figure_mla(const core::MlaCosts& c, const core::Scene& scene, const Theme& theme,
                  FigureSize size = {});
Figure figure_sparse(const core::SparsePatterns& p, const core::Scene& scene, const Theme& theme,
                     FigureSize size = {});

// Heatmap ids of the sparse figure's two masks: (row, col) of SparsePatterns' grids.
inline constexpr int kSparseLongformerHeatmapId = 41;
inline constexpr int kSparseBigBirdHeatmapId = 42;

// Hover-area ids (fig::HoverArea) of the flash, paged and mla figures.
inline constexpr int kFlashTileHoverId = 51;   // row: index into FlashTiling::grid.tiles
inline constexpr int kPagedTableHoverId = 52;  // (sequence, logical block)
inline constexpr int kPagedPoolHoverId = 53;   // row: physical block
inline constexpr int kMlaHoverId = 54;         // row: core::MlaItem

// Hover text for a cell of one of the sparse figure's masks ("" for other ids).
std::string describe_sparse_cell(const core::SparsePatterns& p, const core::Scene& scene,
                                 int heatmap_id, int row, int col);

// Titles the figures use when the scene has none.
inline constexpr const char* kFlashTitle = "FlashAttention: tiles, online softmax, HBM traffic";
inline constexpr const char* kPagedTitle = "PagedAttention: block table and physical blocks";
inline constexpr const char* kMlaTitle = "Multi-head Latent Attention: what is cached";
inline constexpr const char* kSparseTitle = "Sparse attention: Longformer and BigBird";

// Most tiles the flash figure draws one by one; beyond it shows the counts only.
inline constexpr int64_t kFlashMaxDrawnTiles = 8192;

}  // namespace fig
