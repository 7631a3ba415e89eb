// Sparse attention patterns: Longformer (global tokens plus a local band) and BigBird (plus
// seeded random keys), both from the Sparse rule of core/attention/spec.h. Shows the pairs
// each computes against dense causal attention, and the reach across layers: how many
// positions can influence the query after each layer, in the causal form attnlab runs and in
// the encoder form the papers use, where global tokens connect everything in two layers.
#pragma once

#include <cstdint>
#include <vector>

#include "core/scene/scene.h"
#include "core/views/mask_grid.h"

namespace core {

struct SparsePatterns {
  int n = 0;
  int global = 0, local = 0, random = 0;
  uint32_t seed = 0;
  int query = 0;
  int64_t dense_causal_pairs = 0;      // N (N + 1) / 2
  int64_t longformer_pairs = 0;        // global + local, causal (closed form)
  int64_t bigbird_pairs = 0;           // global + local + random, causal (counted)
  int64_t visible_pairs = 0;           // the scene's pattern: bigbird when random > 0
  std::vector<int64_t> reach_causal;   // [n_layers] positions reaching `query` after l+1 layers
  std::vector<int64_t> reach_encoder;  // [n_layers] the same in the encoder form (all N keys)
  int layers_to_all_causal = -1;       // first layer count where all of [0, query] reach; -1 never
  int layers_to_all_encoder = -1;      // first layer count where all N positions reach; -1 never
  MaskGrid longformer_grid;  // the two patterns' masks, kSparseGridCells cells a side at most
  MaskGrid bigbird_grid;
};

inline constexpr int kSparseGridCells = 256;

// The scene with the sparse mask and `random` random keys per query (0: Longformer).
Scene sparse_scene(const Scene& scene, int random);

// Longformer's causal pair count as a sum of a per-row closed form: row q sees
// min(q+1, G + min(L, q+1) - overlap of the band with the global prefix).
int64_t longformer_causal_pairs(int n, int global, int local);

SparsePatterns build_sparse_patterns(const Scene& scene);

// Positions reaching `query` after each of `layers` layers, encoder form (tests use it).
std::vector<int64_t> encoder_reach(const attn::MaskSpec& spec, int n, int query, int layers);

}  // namespace core
