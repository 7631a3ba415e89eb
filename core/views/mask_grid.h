// Mask view: which (query, key) pairs a mask lets through, as a grid that stays small.
// Up to `max_cells` positions the grid is exact (one cell per pair); beyond that each cell
// covers a block x block square and holds the fraction of its pairs that are visible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/scene/scene.h"
#include "core/views/key_intervals.h"

namespace core {

struct MaskGrid {
  int n = 0;                  // seq_len N
  int block = 1;              // positions per cell along each axis; 1 = exact
  int rows = 0;               // ceil(N / block) query cells
  int cols = 0;               // ceil(N / block) key cells
  std::vector<float> cells;   // [rows * cols] row-major, visible fraction in [0, 1]
  int64_t visible_pairs = 0;  // exact count over all N x N pairs
  int64_t causal_pairs = 0;   // N (N + 1) / 2
  double ratio = 0;           // visible_pairs / causal_pairs
  attn::MaskKind kind = attn::MaskKind::Causal;
  int window = 0;  // 0 when the mask has no window
  attn::WindowConvention convention = attn::WindowConvention::IncludingSelf;
  std::vector<int> chunk_starts;    // Chunked: first position of every prefill chunk after 0
  std::vector<int> segment_starts;  // BlockDiagonal: first position of every segment after 0
  std::string xformers;             // the mask's xformers name (mask_names.h); "" for none
};

// Default grid resolution: 512 cells a side is one GL texture and one cairo image.
inline constexpr int kMaskGridMaxCells = 512;

MaskGrid build_mask_grid(const Scene& scene, int max_cells = kMaskGridMaxCells);

// How many grids build_mask_grid has built in this process (tests count that hover builds
// none).
int64_t mask_grid_builds();

// Exact count of visible pairs for the scene, O(N · intervals per row).
int64_t count_visible_pairs(const Scene& scene);

// Hover text for one pair, e.g. "q=12, k=3: masked (outside window: q-k=9 > W-1=7, W=8
// keys including self)". ASCII only, so every UI font can draw it.
std::string describe_mask_cell(const Scene& scene, int q, int k);

// Hover text for one grid cell: the pair text when exact, else the block's position ranges
// and its visible fraction.
std::string describe_mask_grid_cell(const Scene& scene, const MaskGrid& grid, int row, int col);

}  // namespace core
