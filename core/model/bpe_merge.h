// The merge loop shared by both BPE flavours: symbols form a linked list over the input,
// a min-heap holds candidate pairs by (rank, left position), and stale entries are skipped
// on pop. That is O(n log n) per chunk, where rescanning all pairs each step is O(n^2).
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

namespace core::model {

struct MergeSymbol {
  int32_t id;      // token of this span, or -1 when the span is no token
  uint32_t start;  // byte span in the chunk being merged
  uint32_t len;    // 0 once merged into its left neighbour
  int32_t prev, next;
};

// rule(left, right, rank, id) returns true when the two may merge, with the merge's rank
// (lower merges first) and the resulting token id. Afterwards, the live symbols (len > 0)
// in list order are the tokens.
template <typename Rule>
void bpe_merge(std::vector<MergeSymbol>& syms, const Rule& rule) {
  struct Candidate {
    int32_t rank, left, right, id;
    uint32_t len;  // combined length when queued: detects that either side changed since
  };
  auto worse = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> heap(worse);
  auto push = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    int32_t rank = 0, id = -1;
    if (rule(syms[l], syms[r], rank, id)) heap.push({rank, l, r, id, syms[l].len + syms[r].len});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(syms.size()); ++i) push(i, i + 1);

  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    MergeSymbol& l = syms[c.left];
    MergeSymbol& r = syms[c.right];
    if (l.len == 0 || r.len == 0 || l.next != c.right || l.len + r.len != c.len) continue;
    l.len += r.len;
    l.id = c.id;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = c.left;
    r.len = 0;
    push(l.prev, c.left);
    push(c.left, l.next);
  }
}

}  // namespace core::model
