// Live KV memory: the bytes the live caches really allocated and filled, step by step during
// the ring generation, over the formula (f32 K and V, every layer and K/V head: full cache
// 2·L·n_kv·head_dim·4·N, rolling min(N, W) on the windowed layers), plus decode tokens/s with
// the cache and without one, measured on this machine.
#pragma once

#include <string>
#include <vector>

#include "core/session/live_result.h"

namespace core {

struct LiveMemory {
  std::vector<int> n;                                                // tokens after each step
  std::vector<double> full_alloc, full_held, ring_alloc, ring_held;  // [steps] measured bytes
  std::vector<double> full_theory, ring_theory;                      // [steps] formula bytes
  std::vector<int> curve_n;                    // 0 .. last N, for the formula curves
  std::vector<double> full_curve, ring_curve;  // [curve_n.size()] formula bytes
  int window = 0;
  int64_t bytes_per_token = 0;  // full cache, f32
  bool has_speed = false;
  double cache_tok_s = 0, none_tok_s = 0, ratio = 0;
  int speed_prompt = 0, speed_steps = 0;
  bool theory_matches = true;  // held bytes equal the formula at every step
  std::string verdict;
};

LiveMemory build_live_memory(const LiveResult& r);

// The formula the chart draws: bytes of f32 K and V after n tokens, with per-layer ring
// slots (0 = grows with the sequence).
double live_cache_formula(int n, const std::vector<int>& layer_slots, int kv_heads, int head_dim);

}  // namespace core
