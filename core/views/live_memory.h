// Live KV memory: the bytes the live caches really allocated and filled, over the formula
// (f32 K and V, every layer and K/V head: full cache 2·L·n_kv·head_dim·4·N, rolling min(N, W)
// on the windowed layers), plus decode tokens/s with the cache and without one, measured on
// this machine. Before any generation step the chart shows the one point the prompt's pass
// left; during the ring generation, every step. With a paged cache (variant.cache "paged")
// it also shows the blocks the runtime's block tables hold: blocks × block bytes, and the
// empty slots of each layer's last, partly filled block.
#pragma once

#include <string>
#include <vector>

#include "core/session/live_result.h"

namespace core {

struct LiveMemory {
  bool from_pass = false;  // no generation yet: the one point is the prompt's pass
  std::vector<int> n;      // tokens after each step
  std::vector<double> full_alloc, full_held, ring_alloc, ring_held;  // [steps] measured bytes
  // (ring_*: empty when from_pass)
  std::vector<double> full_theory, ring_theory;  // [steps] formula bytes
  std::vector<int> curve_n;                      // 0 .. last N, for the formula curves
  std::vector<double> full_curve, ring_curve;    // [curve_n.size()] formula bytes
  int window = 0;
  int64_t bytes_per_token = 0;  // full cache, f32
  // Paged cache, [steps], from the block tables (empty when the cache is not paged).
  int block = 0;                           // B
  int64_t block_bytes = 0;                 // one block of one layer
  std::vector<int64_t> paged_blocks;       // blocks in use, all layers
  std::vector<int64_t> paged_empty_slots;  // unfilled slots of those blocks
  std::vector<double> paged_alloc;         // paged_blocks × block_bytes
  std::vector<double> paged_fragment;      // paged_empty_slots × bytes of one slot
  bool has_speed = false;
  double cache_tok_s = 0, none_tok_s = 0, ratio = 0;
  int speed_prompt = 0, speed_steps = 0;
  bool theory_matches = true;  // held bytes equal the formula at every step
  std::string paged_line;      // "paged B=16: 90 blocks x 24 KiB = ..."; empty when not paged
  std::string verdict;
};

LiveMemory build_live_memory(const LiveResult& r);

// The formula the chart draws: bytes of f32 K and V after n tokens, with per-layer ring
// slots (0 = grows with the sequence).
double live_cache_formula(int n, const std::vector<int>& layer_slots, int kv_heads, int head_dim);

}  // namespace core
