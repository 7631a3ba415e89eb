#include "core/views/live_ring.h"

#include <algorithm>

namespace core {

LiveRing build_live_ring(const LiveGeneration& g, int step, int layer) {
  LiveRing r;
  r.window = g.window;
  r.convention = g.convention;
  if (g.steps.empty()) return r;
  r.n_steps = static_cast<int>(g.steps.size());
  r.step = step < 0 || step >= r.n_steps ? r.n_steps - 1 : step;
  r.layer = layer >= 0 && layer < static_cast<int>(g.layer_slots.size()) && g.layer_slots[layer] > 0
                ? layer
                : g.ring_layer;
  const GenStep& st = g.steps[r.step];
  r.n_tokens = st.n_tokens;
  r.prompt_tokens = g.steps.front().n_tokens;
  const model::CacheCapture& cc = st.ring[r.layer];
  const model::CacheCapture* prev = r.step > 0 ? &g.steps[r.step - 1].ring[r.layer] : nullptr;
  const int slots = std::max(cc.n_slots, g.window);
  r.slots.resize(slots);
  for (int s = 0; s < cc.n_slots; ++s) {
    LiveRingSlot& sl = r.slots[s];
    sl.pos = cc.slot_pos[s];
    if (sl.pos >= 0 && sl.pos < static_cast<int>(g.labels.size())) sl.label = g.labels[sl.pos];
    for (int h = 0; h < cc.n_kv_heads; ++h) {
      sl.k_norm += cc.k_norm[s * cc.n_kv_heads + h] / cc.n_kv_heads;
      sl.v_norm += cc.v_norm[s * cc.n_kv_heads + h] / cc.n_kv_heads;
    }
    r.max_k = std::max(r.max_k, sl.k_norm);
    r.max_v = std::max(r.max_v, sl.v_norm);
    sl.just_written = sl.pos == r.n_tokens - 1;
    if (sl.just_written) {
      r.written_slot = s;
      if (prev && s < prev->n_slots && prev->slot_pos[s] >= 0 && prev->slot_pos[s] != sl.pos) {
        r.evicted_pos = prev->slot_pos[s];
        r.evicted_label = g.labels[r.evicted_pos];
      }
    }
  }
  r.fits = r.n_tokens <= g.window;
  r.first_divergence =
      g.first_divergence >= 0 && g.first_divergence < r.n_tokens ? g.first_divergence : -1;
  r.identical = r.first_divergence < 0;
  for (int i = 1; i <= r.step; ++i) {
    r.ring_text += g.steps[i].label;
    r.full_text += g.steps[i].full_label;
  }
  const std::string n = std::to_string(r.n_tokens), w = std::to_string(g.window);
  if (r.fits)
    r.verdict = r.identical ? "N=" + n + " <= W=" + w +
                                  ": the ring still holds every token, and the full-cache "
                                  "generation produced identical text (as it must)"
                            : "N=" + n + " <= W=" + w +
                                  ": texts differ although nothing was evicted -- a bug";
  else
    r.verdict = r.identical ? "N=" + n + " > W=" + w +
                                  ": old tokens are evicted, yet the text still matches the "
                                  "full cache"
                            : "N=" + n + " > W=" + w + ": the texts diverge from position " +
                                  std::to_string(r.first_divergence) +
                                  " (the window hides tokens the full cache still sees)";
  return r;
}

}  // namespace core
