// Live rolling buffer: the ring cache of the real model during greedy generation, one slot
// per box with the token it holds, its position and the stored key/value norms; what the last
// step wrote and what it evicted; and whether the full-cache generation produced the same text
// (it must while every position still fits in the window, N <= W).
#pragma once

#include <string>
#include <vector>

#include "core/session/live_result.h"

namespace core {

struct LiveRingSlot {
  int pos = -1;  // -1 = empty
  std::string label;
  float k_norm = 0, v_norm = 0;  // mean over the K/V heads
  bool just_written = false;
};

struct LiveRing {
  int window = 0;  // W slots
  attn::WindowConvention convention = attn::WindowConvention::IncludingSelf;
  int layer = 0;  // the layer whose ring is shown
  int step = 0;   // index into the generation's steps (0 = prompt prefilled)
  int n_steps = 0;
  int n_tokens = 0;  // N after this step
  int prompt_tokens = 0;
  std::vector<LiveRingSlot> slots;  // [W]
  int written_slot = -1;
  int evicted_pos = -1;  // position the last write overwrote, -1 = none
  std::string evicted_label;
  float max_k = 0, max_v = 0;  // over all slots, for bar scaling
  bool fits = true;            // N <= W: the ring holds every position
  bool identical = true;       // the generated texts agree so far
  int first_divergence = -1;
  std::string ring_text, full_text;  // generated text up to this step
  std::string verdict;
};

// step < 0 = the last step; layer < 0 or a layer without a ring = the generation's ring layer.
LiveRing build_live_ring(const LiveGeneration& g, int step = -1, int layer = -1);

}  // namespace core
