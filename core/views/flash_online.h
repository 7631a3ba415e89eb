// The online softmax of one query row, one key tile at a time, as the tiled kernel computes
// it (attn::score_tile, online_softmax_tile and accumulate_pv from attn_math.h): the running
// max m, the running sum l, the factor that rescales the accumulator, and the accumulator
// itself after every tile; then the finished row against the ordinary two-pass softmax.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/scene/scene.h"
#include "core/session/live_result.h"

namespace core {

struct OnlineStep {
  int k0 = 0, k1 = 0;      // the key tile [k0, k1)
  int visible = 0;         // keys of the tile the mask lets through
  float tile_max = 0;      // largest visible score of the tile (-inf when none)
  float m = 0, l = 0;      // running max and sum after the tile
  float rescale = 1;       // exp(m_old - m_new): what the accumulator was multiplied by
  std::vector<float> acc;  // [head_dim] un-normalised output after the tile
};

struct OnlineSoftmaxTrace {
  int query = 0;         // the traced row's position
  int row_block_lo = 0;  // the row block holding it: queries [lo, hi)
  int row_block_hi = 0;
  int block_cols = 0;  // keys per tile
  int head_dim = 0;
  std::vector<float> scores;         // [query + 1] scaled scores, -inf where masked
  std::vector<OnlineStep> steps;     // one per key tile up to the query
  std::vector<float> out_online;     // [head_dim] acc / l after the last tile
  std::vector<double> probs;         // [query + 1] ordinary softmax in double (0 where masked)
  std::vector<double> out_ordinary;  // [head_dim] probs · V in double
  double max_abs_diff = 0;           // max |out_online - out_ordinary|
  // Where Q, K and V came from, said in the view: the model, layer, head and prompt, or
  // why the row is synthetic.
  bool from_model = false;
  std::string source;
  double max_prob_diff_model = -1;  // max |probs - the model's own attention row|; -1 = none
};

// Writes the K and V rows of keys [k0, k0 + m) into k and v ([m, head_dim] each). Lets a
// caller hand over a real cache, or generate keys tile by tile so memory stays one tile.
using KvRows = std::function<void(int k0, int m, float* k, float* v)>;

// Traces row `query` with query vector q [head_dim] over keys [0, query], in tiles of
// `block_cols` from 0; `block_rows` only names the row block the query sits in.
OnlineSoftmaxTrace trace_online_softmax(const float* q, const KvRows& kv, int head_dim, float scale,
                                        const attn::MaskSpec& mask, int query, int block_cols,
                                        int block_rows);

// The scene's row: Q, K and V drawn from a fixed hash (the same on every machine) unless
// real ones are given, query = scene.query, tiles of the paper's Br x Bc for the scene.
OnlineSoftmaxTrace build_online_trace(const Scene& scene);

// The same row on the real model: the captured head's q at min(scene.query, n - 1), its K/V
// rows, the layer's mask and the model's scale, in tiles of the paper's Bc for the scene's
// on-chip memory at the model's head_dim; the ordinary row is also compared with the
// probabilities the model's own attention produced.
OnlineSoftmaxTrace trace_model_row(const LiveHeadVectors& hv, const Scene& scene,
                                   const std::string& model_name);

// Deterministic pseudo-random values in [-1, 1) from attn::hash_u32 (seed, first + i).
void hash_fill(std::vector<float>& out, uint32_t seed, int64_t first = 0);

}  // namespace core
