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

namespace {

// "held by seq 0 (logical 1), seq 2 (logical 1)": every table entry naming the block.
std::string holders(const PagedBlocks& p, int phys) {
  std::string s;
  for (size_t q = 0; q < p.tables.size(); ++q)
    for (size_t i = 0; i < p.tables[q].size(); ++i)
      if (p.tables[q][i] == phys)
        s += (s.empty() ? "" : ", ") + std::string("seq ") + std::to_string(q) + " (logical " +
             std::to_string(i) + ")";
  return s;
}

std::string fill_text(const PagedBlocks& p, int phys) {
  const int f = p.fill[phys];
  return "fill " + std::to_string(f) + " / " + std::to_string(p.block) + " tokens (" +
         std::to_string(p.block - f) + " slots unused)";
}

std::string ref_text(const PagedBlocks& p, int phys) {
  const int r = p.ref[phys];
  if (r <= 1) return "ref count " + std::to_string(r);
  return "ref count " + std::to_string(r) + ": shared by " + holders(p, phys) +
         "; a write into it copies it first (copy-on-write)";
}

}  // namespace

std::string describe_paged_logical(const PagedView& v, int seq, int logical) {
  const PagedBlocks& p = v.blocks;
  if (seq < 0 || seq >= static_cast<int>(p.tables.size())) return "";
  const std::vector<int>& tb = p.tables[seq];
  if (logical < 0 || logical >= static_cast<int>(tb.size())) return "";
  const int phys = tb[logical];
  const int b = p.block, len = p.lengths[seq];
  const int first = logical * b, last = std::min(len, first + b) - 1;
  std::string s = "sequence " + std::to_string(seq) + " (" + std::to_string(len) +
                  " tokens), logical block " + std::to_string(logical) + " -> ";
  if (phys < 0) return s + "released (the window moved past it)";
  return s + "physical block " + std::to_string(phys) + "\ntokens " + std::to_string(first) + ".." +
         std::to_string(last) + " of the sequence; " + fill_text(p, phys) + "\n" +
         ref_text(p, phys);
}

std::string describe_paged_physical(const PagedView& v, int phys) {
  const PagedBlocks& p = v.blocks;
  if (phys < 0 || phys >= static_cast<int>(p.ref.size())) return "";
  const std::string head = "physical block " + std::to_string(phys) + ": ";
  if (p.ref[phys] == 0) return head + "free (on the free list)";
  return head + fill_text(p, phys) + "\n" +
         (p.ref[phys] == 1 ? "ref count 1: held by " + holders(p, phys) : ref_text(p, phys));
}

}  // namespace core
