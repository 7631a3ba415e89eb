// The paged K/V cache mode (--cache paged --block B): one layer's slots are physical blocks
// of B tokens from a free list, mapped by a block table (core/attention/paged_blocks.h), the
// way vLLM stores a sequence. Slot = physical block x B + offset; the attention call sees the
// pool with -1 in every slot that holds nothing. With a sliding window, blocks every later
// query is past go back to the free list and are reused, so the pool stays about W + B slots.
#pragma once

#include <cstdint>

#include "core/attention/paged_blocks.h"

namespace core::model {

struct PagedSlots {
  int block = 0;          // B; 0 = this layer is not paged
  int max_distance = -1;  // the window's largest q-k; -1 = keep every block
  int freed = 0;          // logical blocks before this one have been released
  PagedBlocks table;      // one sequence
};

PagedSlots paged_slots(int block, int max_distance);

// The slot of position `pos`, the sequence's next one (positions arrive in order).
int paged_slot(PagedSlots& p, int pos);

// Physical slots in the pool: blocks x B.
int paged_slot_count(const PagedSlots& p);

// Releases the blocks no query at or after `next_pos` can see and marks their slots empty
// (-1) in slot_pos [paged_slot_count].
void paged_free_behind(PagedSlots& p, int next_pos, int32_t* slot_pos);

}  // namespace core::model
