#include "core/model/paged_cache.h"

#include <stdexcept>
#include <vector>

namespace core::model {

PagedSlots paged_slots(int block, int max_distance) {
  PagedSlots p;
  p.block = block;
  p.max_distance = max_distance;
  if (block > 0) {
    p.table = paged_blocks(block);
    paged_new_sequence(p.table);
  }
  return p;
}

int paged_slot(PagedSlots& p, int pos) {
  if (pos != p.table.lengths[0])
    throw std::logic_error("paged cache: positions must arrive in order");
  const PagedSlot s = paged_append(p.table, 0);
  return s.physical * p.block + s.offset;
}

int paged_slot_count(const PagedSlots& p) {
  return static_cast<int>(p.table.ref.size()) * p.block;
}

void paged_free_behind(PagedSlots& p, int next_pos, int32_t* slot_pos) {
  if (p.max_distance < 0) return;
  const int64_t first_live = static_cast<int64_t>(next_pos) - p.max_distance;
  std::vector<int>& table = p.table.tables[0];
  const int last = static_cast<int>(table.size()) - 1;  // the block the next append fills
  while (p.freed < last && static_cast<int64_t>(p.freed + 1) * p.block - 1 < first_live) {
    const int phys = table[p.freed];
    for (int i = 0; i < p.block; ++i) slot_pos[phys * p.block + i] = -1;
    paged_release_block(p.table, 0, p.freed);
    ++p.freed;
  }
}

}  // namespace core::model
