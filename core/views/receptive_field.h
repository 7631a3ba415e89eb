// Receptive field across layers: which positions can influence query `query` after l layers.
// With a sliding window every layer widens the reach by the window's largest distance D
// (W-1 for "W keys including self", W for "self plus W previous"), so after l layers the
// reach is l·D + 1 tokens; a global layer reaches everything before the query.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/scene/scene.h"

namespace core {

struct LayerReach {
  int layer = 0;        // 1-based: the reach after this many layers
  bool global = false;  // this layer attends to everything (no window)
  // Closed form, unclipped: l·D + 1 tokens, or -1 once any layer up to here is global or
  // the mask has no window (reach = everything).
  int64_t theoretical = 0;
  int lo = 0, hi = 0;      // positions reached, clipped to the sequence: [lo, hi] when contiguous
  int64_t count = 0;       // exact number of positions that reach the query
  bool contiguous = true;  // false for sparse masks, whose reach has holes
  std::vector<float> coverage;  // [bins] fraction of each position bin that is reached
};

struct ReceptiveField {
  int query = 0;
  int n = 0;  // seq_len
  int window = 0;
  attn::WindowConvention convention = attn::WindowConvention::IncludingSelf;
  int64_t per_layer = 0;  // D, the growth per windowed layer; 0 when the mask has no window
  int bins = 0;           // coverage bins over positions [0, n)
  int bin_width = 1;      // positions per bin
  std::vector<LayerReach> layers;  // [n_layers]
};

inline constexpr int kReceptiveFieldMaxBins = 512;

ReceptiveField build_receptive_field(const Scene& scene, int max_bins = kReceptiveFieldMaxBins);

// Hover text for one cell of the reach heatmap (row = layer index, col = position bin).
std::string describe_reach_cell(const ReceptiveField& rf, int row, int col);

// Closed-form reach after `layers` windowed layers for window W and a convention:
// layers·(W-1)+1 (including self) or layers·W+1 (self plus previous). W <= 0 gives -1.
int64_t closed_form_reach(int64_t layers, int window, attn::WindowConvention c);

// Brute force for tests: propagates the set of positions that reach `query` through every
// layer with attn::visible on all pairs (O(L·N²)). Result [n_layers][n]: 1 when position k
// reaches the query after l+1 layers.
std::vector<std::vector<uint8_t>> propagate_reach_brute_force(const Scene& scene);

}  // namespace core
