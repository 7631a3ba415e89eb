#include "core/attention/paged_blocks.h"

#include <cstddef>

namespace core {
namespace {

int allocate(PagedBlocks& p) {
  if (p.free_list.empty()) {
    p.ref.push_back(0);
    p.fill.push_back(0);
    p.free_list.push_back(static_cast<int>(p.ref.size()) - 1);
  }
  const int id = p.free_list.back();
  p.free_list.pop_back();
  p.ref[id] = 1;
  p.fill[id] = 0;
  return id;
}

}  // namespace

PagedBlocks paged_blocks(int block) {
  PagedBlocks p;
  p.block = block < 1 ? 1 : block;
  return p;
}

int paged_new_sequence(PagedBlocks& p) {
  p.tables.emplace_back();
  p.lengths.push_back(0);
  return static_cast<int>(p.tables.size()) - 1;
}

int paged_fork(PagedBlocks& p, int parent) {
  const int child = paged_new_sequence(p);
  p.tables[child] = p.tables[parent];
  p.lengths[child] = p.lengths[parent];
  for (int b : p.tables[child]) ++p.ref[b];
  return child;
}

PagedSlot paged_append(PagedBlocks& p, int seq) {
  std::vector<int>& table = p.tables[seq];
  const int offset = p.lengths[seq] % p.block;
  PagedSlot s;
  if (offset == 0) {
    table.push_back(allocate(p));
  } else if (p.ref[table.back()] > 1) {
    const int shared = table.back();
    const int copy = allocate(p);
    p.fill[copy] = offset;  // the tokens already written are copied over
    --p.ref[shared];
    table.back() = copy;
    ++p.copies;
    s.copied_from = shared;
  }
  s.physical = table.back();
  s.offset = offset;
  // A block shared by another sequence keeps its fill; only this sequence's slot is new.
  if (p.fill[s.physical] < offset + 1) p.fill[s.physical] = offset + 1;
  ++p.lengths[seq];
  return s;
}

void paged_release_block(PagedBlocks& p, int seq, int logical) {
  int& b = p.tables[seq][logical];
  if (b < 0) return;
  if (--p.ref[b] == 0) p.free_list.push_back(b);
  b = -1;
}

void paged_release(PagedBlocks& p, int seq) {
  for (int b : p.tables[seq])
    if (b >= 0 && --p.ref[b] == 0) p.free_list.push_back(b);
  p.tables[seq].clear();
  p.lengths[seq] = 0;
}

int64_t paged_blocks_in_use(const PagedBlocks& p) {
  int64_t n = 0;
  for (int r : p.ref) n += r > 0 ? 1 : 0;
  return n;
}

int64_t paged_tokens_stored(const PagedBlocks& p) {
  int64_t n = 0;
  for (std::size_t b = 0; b < p.ref.size(); ++b)
    if (p.ref[b] > 0) n += p.fill[b];
  return n;
}

}  // namespace core
