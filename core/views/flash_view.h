// The flash view's data: the tiling (block sizes, tile grid, HBM traffic, FA1/FA2, the
// kernel's own tiles) and the online-softmax trace of the scene's query row, on the real
// model's Q, K, V when the live model has captured the scene's layer and head, else on
// synthetic ones (the trace says which).
#pragma once

#include <string>

#include "core/scene/scene.h"
#include "core/session/live_result.h"
#include "core/views/flash_online.h"
#include "core/views/flash_tiling.h"

namespace core {

struct FlashView {
  FlashTiling tiling;
  OnlineSoftmaxTrace trace;
};

// `live` may be null (no model loaded): the trace is synthetic.
FlashView build_flash_view(const Scene& scene, const LiveResult* live = nullptr);

// Hover text of tile `index` of the grid (walk order): its row block and key tile, its kind
// and the queries and keys it covers. "" for an index outside the stored tiles.
std::string describe_flash_tile(const TileGrid& g, int index);

}  // namespace core
