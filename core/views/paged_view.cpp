#include "core/views/paged_view.h"

#include <algorithm>

#include "core/views/kv_memory.h"

namespace core {

PagedCounts paged_counts(const std::vector<int>& lengths, int b, int prefix) {
  PagedCounts c;
  const int64_t n = static_cast<int64_t>(lengths.size());
  b = std::max(1, b);
  for (int l : lengths) c.blocks_unshared += (l + b - 1) / b;
  if (n == 0) return c;
  const int64_t shared_tokens = static_cast<int64_t>(prefix) / b * b;  // S * B
  const int64_t partial = prefix - shared_tokens;                      // P mod B
  int64_t writers = 0;
  c.blocks_used = shared_tokens / b;
  c.tokens_stored = shared_tokens;
  for (int l : lengths) {
    if (l <= prefix) continue;
    ++writers;
    c.blocks_used += (l - shared_tokens + b - 1) / b;
    c.tokens_stored += l - shared_tokens;
  }
  if (partial > 0) {
    if (writers < n) {  // a sequence that never writes keeps the original partial block
      c.blocks_used += 1;
      c.tokens_stored += partial;
    }
    c.cow_copies = writers < n ? writers : n - 1;
  }
  c.slots_wasted = c.blocks_used * b - c.tokens_stored;
  return c;
}

PagedView build_paged_view(const Scene& s) {
  PagedView v;
  v.block = s.paged.block;
  v.max_len = s.seq_len;
  for (int l : s.paged.sequences) v.max_len = std::max(v.max_len, l);
  v.prefix = s.paged.prefix;
  v.lengths = s.paged.sequences;
  v.blocks = paged_blocks(v.block);
  const int n = static_cast<int>(v.lengths.size());
  if (n > 0) {
    paged_new_sequence(v.blocks);
    for (int t = 0; t < v.prefix; ++t) paged_append(v.blocks, 0);
    for (int i = 1; i < n; ++i) {
      if (v.prefix > 0)
        paged_fork(v.blocks, 0);
      else
        paged_new_sequence(v.blocks);
    }
    for (bool more = true; more;) {
      more = false;
      for (int i = 0; i < n; ++i)
        if (v.blocks.lengths[i] < v.lengths[i]) {
          paged_append(v.blocks, i);
          more = true;
        }
    }
  }
  v.counts = paged_counts(v.lengths, v.block, v.prefix);
  v.bytes_per_token = kv_bytes_per_token(s, s.n_kv_heads);
  v.bytes_used = v.counts.blocks_used * v.block * v.bytes_per_token;
  v.bytes_wasted = v.counts.slots_wasted * v.bytes_per_token;
  const int64_t slots = v.counts.blocks_used * v.block;
  v.utilisation = slots > 0 ? static_cast<double>(v.counts.tokens_stored) / slots : 1.0;
  v.contiguous_slots = static_cast<int64_t>(n) * v.max_len;
  int64_t tokens = 0;
  for (int l : v.lengths) tokens += l;
  v.contiguous_utilisation =
      v.contiguous_slots > 0 ? static_cast<double>(tokens) / v.contiguous_slots : 1.0;
  return v;
}

}  // namespace core
