#include "core/views/flash_view.h"

namespace core {
namespace {

// Why the trace runs on synthetic data when a model is loaded but its row is not here.
std::string why_synthetic(const Scene& s, const LiveResult* live) {
  if (!live || !live->config) return "no model loaded";
  if (!live->pass) return "the model's pass is still running";
  const model::Config& c = *live->config;
  if (s.layer >= c.n_layers || s.head >= c.n_heads)
    return "layer " + std::to_string(s.layer) + ", head " + std::to_string(s.head) +
           " is outside " + c.name;
  return "capturing layer " + std::to_string(s.layer) + ", head " + std::to_string(s.head) +
         " of " + c.name;
}

}  // namespace

FlashView build_flash_view(const Scene& s, const LiveResult* live) {
  FlashView v;
  v.tiling = build_flash_tiling(s, true);
  const LiveHeadVectors* hv = live ? live->head_vectors.get() : nullptr;
  if (hv && live->pass && live->config && hv->vectors.layer == s.layer &&
      hv->vectors.head == s.head && hv->vectors.n > 0 && hv->tokens == live->pass->tokens) {
    v.trace = trace_model_row(*hv, s, live->config->name);
    return v;
  }
  v.trace = build_online_trace(s);
  v.trace.source += ": " + why_synthetic(s, live);
  return v;
}

std::string describe_flash_tile(const TileGrid& g, int index) {
  if (index < 0 || index >= static_cast<int>(g.tiles.size())) return "";
  // Walk order is row block by row block: count the row blocks begun before this tile, and
  // the key tiles of its own row block before it.
  int row_block = 0, first = 0;
  for (int i = 1; i <= index; ++i)
    if (g.tiles[i].q0 != g.tiles[i - 1].q0) ++row_block, first = i;
  const Tile& t = g.tiles[index];
  std::string s = "tile (row block " + std::to_string(row_block) + ", key tile " +
                  std::to_string(index - first) + "): " + tile_kind_name(t.kind) + "\nqueries " +
                  std::to_string(t.q0) + ".." + std::to_string(t.q1 - 1) + " x keys " +
                  std::to_string(t.k0) + ".." + std::to_string(t.k1 - 1) + " (" +
                  std::to_string(static_cast<int64_t>(t.q1 - t.q0) * (t.k1 - t.k0)) + " pairs)\n";
  switch (t.kind) {
    case TileKind::Skipped:
      return s + "no pair is visible: the kernel never loads this K/V tile for the row block";
    case TileKind::Masked:
      return s + "some pairs are hidden: the kernel applies the mask inside the tile";
    case TileKind::Full:
      return s + "every pair is visible: computed without a mask";
  }
  return s;
}

}  // namespace core
