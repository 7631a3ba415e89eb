// One layer's K/V store for the forward pass: a growing cache keeps position p in slot p, a
// rolling one W slots (attn::ring_slot), a paged one the blocks of its block table
// (paged_cache.h).
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/forward.h"
#include "core/model/paged_cache.h"

namespace core::model {

// Per-layer K/V store. Growing caches keep position p in slot p; rolling ones use ring_slot.
struct LayerCache {
  int capacity = 0;
  int ring = 0;                   // rolling: W, else 0
  std::vector<float> k, v;        // [capacity, kv_dim]
  std::vector<int32_t> slot_pos;  // [capacity]
  int used = 0;                   // slots that may hold a position
  PagedSlots paged;               // paged mode: the block table; paged.block == 0 otherwise
};

// An empty cache with the layer's ring or block table settings.
LayerCache empty_cache(const LayerPlan& p);

// Room for `slots` slots of kv_dim floats (a ring: at most W; paged: the pool's blocks).
void ensure_capacity(LayerCache& lc, int slots, int kv_dim);

// The slot position `pos` is written to: p itself (growing), p mod W (ring), or the next slot
// of the block table (paged, which may take a block from the free list).
int cache_slot(LayerCache& lc, int pos, int kv_dim);

// Slots the next attention call reads after positions up to last_pos were written. Paged:
// the blocks the window has passed go back to the free list first (their slots read -1).
int cache_used(LayerCache& lc, int last_pos);

}  // namespace core::model
