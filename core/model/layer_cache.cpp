#include "core/model/layer_cache.h"

#include <algorithm>

#include "core/attention/spec.h"

namespace core::model {

LayerCache empty_cache(const LayerPlan& p) {
  LayerCache lc;
  lc.ring = p.cache_slots;
  lc.paged =
      paged_slots(p.cache_block, attn::window_max_distance(p.mask.window, p.mask.convention));
  return lc;
}

void ensure_capacity(LayerCache& lc, int slots, int kv_dim) {
  if (lc.paged.block > 0) slots = paged_slot_count(lc.paged);  // the pool holds its blocks only
  if (slots <= lc.capacity) return;
  // A paged pool grows by exactly the blocks it took, so its bytes are its blocks.
  // A ring grows like a growing cache until it holds W slots: positions below W sit in slot
  // p, so no slot is allocated before a position can reach it.
  const int grown = std::max({slots, 2 * lc.capacity, 64});
  const int cap = lc.ring > 0 ? std::min(lc.ring, grown) : lc.paged.block > 0 ? slots : grown;
  lc.k.resize(static_cast<size_t>(cap) * kv_dim);
  lc.v.resize(static_cast<size_t>(cap) * kv_dim);
  lc.slot_pos.resize(cap, -1);
  lc.capacity = cap;
}

int cache_slot(LayerCache& lc, int pos, int kv_dim) {
  if (lc.paged.block == 0) return lc.ring > 0 ? attn::ring_slot(pos, lc.ring) : pos;
  const int slot = paged_slot(lc.paged, pos);
  ensure_capacity(lc, 0, kv_dim);
  return slot;
}

int cache_used(LayerCache& lc, int last_pos) {
  if (lc.paged.block == 0) {
    const int used = std::max(lc.used, last_pos + 1);
    return lc.ring > 0 ? std::min(lc.ring, used) : used;
  }
  paged_free_behind(lc.paged, last_pos + 1, lc.slot_pos.data());
  return paged_slot_count(lc.paged);
}

}  // namespace core::model
