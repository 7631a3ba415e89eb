// Attention rollout (Abnar & Zuidema 2020): how much each input position influences the
// query's representation after each layer, measured from the captured probabilities. Each
// layer's map is the mean over heads plus the residual stream, Â = ½·A + ½·I (rows then sum
// to 1), and the influence after l layers is row q of Â_l ··· Â_1. Shown next to the
// theoretical reach l·D+1 of receptive_field.h: with a sliding window no influence can lie
// beyond the reach, and the measured 99% point usually lies well inside it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/session/live_result.h"

namespace core {

// Mean-over-heads attention of one layer plus the residual, row-normalised. [n*n] row-major.
std::vector<double> rollout_layer_matrix(const model::Capture& cap, int layer, int n_heads, int n,
                                         double residual = 0.5);

// Full rollout matrix after `layers` layers: Â_{layers-1} ··· Â_0, [n*n]. O(layers·n³): for
// tests and small n.
std::vector<double> attention_rollout(const model::Capture& cap, int layers, int n_heads, int n,
                                      double residual = 0.5);

struct RolloutLayer {
  int layer = 0;                 // 1-based: influence after this many layers
  std::vector<float> influence;  // [n] rollout row of the query (sums to 1)
  bool global = false;           // some layer up to here has no window
  int reach_lo = 0;              // first position the theoretical reach admits
  int64_t reach_tokens = 0;      // closed form l·D+1, -1 when unbounded (global layer)
  int mass99_lo = 0;             // first position of the shortest suffix [p, q] holding 99%
  float beyond_reach = 0;        // mass at positions < reach_lo (must be 0)
  float sink = 0;                // mass on position 0 (the attention sink)
};

struct LiveRollout {
  int n = 0, query = 0;
  std::vector<std::string> labels;   // [n]
  std::vector<RolloutLayer> layers;  // [n_layers]
  std::string setting;
  std::string verdict;  // one sentence: where real flow stops vs the bound
};

LiveRollout build_live_rollout(const LivePass& pass, const model::Config& c, int query,
                               double residual = 0.5);

}  // namespace core
