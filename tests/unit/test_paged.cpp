// PagedAttention: the block table allocator against a token store that it must keep right
// (every sequence reads back exactly its own tokens, shared prompt included, after
// copy-on-write), and the view's closed forms against the allocator's own counts.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/attention/paged_blocks.h"
#include "core/views/paged_view.h"

namespace {

// Token value of sequence `seq` at position `pos`: the prompt is the same for all.
int token(int seq, int pos, int prefix) {
  return pos < prefix ? 1000000 + pos : seq * 100000 + pos;
}

struct PagedRun {
  core::PagedBlocks p;
  std::vector<std::vector<int>> store;  // [physical][slot] token value
};

// The view's schedule, with every token written into a store the block tables point into.
PagedRun run_schedule(const std::vector<int>& lengths, int b, int prefix) {
  PagedRun r{core::paged_blocks(b), {}};
  auto append = [&](int seq) {
    const int pos = r.p.lengths[seq];
    const core::PagedSlot s = core::paged_append(r.p, seq);
    if (static_cast<int>(r.store.size()) <= s.physical) r.store.resize(s.physical + 1);
    if (s.copied_from >= 0) r.store[s.physical] = r.store[s.copied_from];
    r.store[s.physical].resize(b, -1);
    r.store[s.physical][s.offset] = token(seq, pos, prefix);
  };
  const int n = static_cast<int>(lengths.size());
  core::paged_new_sequence(r.p);
  for (int t = 0; t < prefix; ++t) append(0);
  for (int i = 1; i < n; ++i) prefix > 0 ? core::paged_fork(r.p, 0) : core::paged_new_sequence(r.p);
  for (bool more = true; more;) {
    more = false;
    for (int i = 0; i < n; ++i)
      if (r.p.lengths[i] < lengths[i]) {
        append(i);
        more = true;
      }
  }
  return r;
}

TEST(Paged, SequencesReadBackTheirOwnTokensAndCountsMatchTheClosedForm) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 400; ++trial) {
    const int b = 1 + static_cast<int>(rng() % 17);
    const int n = 1 + static_cast<int>(rng() % 6);
    const int prefix = trial % 3 == 0 ? 0 : static_cast<int>(rng() % 40);
    std::vector<int> lengths(n);
    for (int& l : lengths) l = prefix + static_cast<int>(rng() % 50) * (rng() % 4 != 0);
    SCOPED_TRACE("B=" + std::to_string(b) + " n=" + std::to_string(n) +
                 " prefix=" + std::to_string(prefix));
    const PagedRun r = run_schedule(lengths, b, prefix);
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(r.p.lengths[i], lengths[i]);
      ASSERT_EQ(static_cast<int>(r.p.tables[i].size()), (lengths[i] + b - 1) / b);
      for (int pos = 0; pos < lengths[i]; ++pos)
        ASSERT_EQ(r.store[r.p.tables[i][pos / b]][pos % b], token(i, pos, prefix))
            << i << "@" << pos;
    }
    // Reference counts equal the number of tables holding each block.
    std::vector<int> holders(r.p.ref.size(), 0);
    for (const auto& t : r.p.tables)
      for (int blk : t) ++holders[blk];
    EXPECT_EQ(holders, r.p.ref);
    const core::PagedCounts c = core::paged_counts(lengths, b, prefix);
    EXPECT_EQ(c.blocks_used, core::paged_blocks_in_use(r.p));
    EXPECT_EQ(c.tokens_stored, core::paged_tokens_stored(r.p));
    EXPECT_EQ(c.cow_copies, r.p.copies);
    EXPECT_EQ(c.slots_wasted, c.blocks_used * b - c.tokens_stored);
    int64_t unshared = 0;
    for (int l : lengths) unshared += (l + b - 1) / b;
    EXPECT_EQ(c.blocks_unshared, unshared);
  }
}

TEST(Paged, ReleaseReturnsBlocksToTheFreeList) {
  core::PagedBlocks p = core::paged_blocks(4);
  const int a = core::paged_new_sequence(p);
  for (int t = 0; t < 10; ++t) core::paged_append(p, a);  // 3 blocks
  const int c = core::paged_fork(p, a);
  core::paged_append(p, c);  // copies the partial third block
  EXPECT_EQ(p.copies, 1);
  EXPECT_EQ(core::paged_blocks_in_use(p), 4);
  core::paged_release(p, a);
  EXPECT_EQ(core::paged_blocks_in_use(p), 3);  // the fork still holds the two prompt blocks
  EXPECT_EQ(p.free_list.size(), 1u);
  const int d = core::paged_new_sequence(p);
  const core::PagedSlot s = core::paged_append(p, d);
  EXPECT_EQ(s.physical, 2);  // the freed block is reused before the pool grows
}

TEST(Paged, ViewNumbersFollowFromTheCounts) {
  core::Scene s;  // Mistral-7B shape, fp16
  s.paged.block = 16;
  s.paged.sequences = {40, 23, 57, 12};
  const core::PagedView v = core::build_paged_view(s);
  // Hand count: ceil(40/16)+ceil(23/16)+ceil(57/16)+ceil(12/16) = 3+2+4+1 = 10 blocks of 16.
  EXPECT_EQ(v.counts.blocks_used, 10);
  EXPECT_EQ(v.counts.slots_wasted, 160 - (40 + 23 + 57 + 12));
  const int64_t per_token = 2LL * s.n_layers * s.n_kv_heads * s.head_dim * 2;  // K,V fp16
  EXPECT_EQ(v.bytes_per_token, per_token);
  EXPECT_EQ(v.bytes_wasted, 28 * per_token);
  EXPECT_DOUBLE_EQ(v.utilisation, 132.0 / 160.0);
  EXPECT_DOUBLE_EQ(v.contiguous_utilisation, 132.0 / (4.0 * s.seq_len));
}

}  // namespace
