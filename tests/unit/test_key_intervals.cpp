// The sparse-interval helper shared by the mask grid and the receptive field
// (core/views/key_intervals.h) against attn::visible: the union of the intervals it lists is
// exactly the visible keys, for random sparse patterns.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/views/key_intervals.h"

namespace {

TEST(KeyIntervals, SparseIntervalsCoverExactlyTheVisibleKeys) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 300; ++trial) {
    attn::MaskSpec m;
    m.kind = attn::MaskKind::Sparse;
    m.sparse_global = static_cast<int>(rng() % 6);
    m.sparse_local = static_cast<int>(rng() % 9);
    m.sparse_random = static_cast<int>(rng() % 5);
    m.sparse_seed = static_cast<uint32_t>(rng());
    const int n = 1 + static_cast<int>(rng() % 80);
    for (int q = 0; q < n; ++q) {
      std::vector<uint8_t> row(q + 1, 0);
      core::for_each_sparse_interval(q, m, [&](int lo, int hi) {
        ASSERT_LE(0, lo);
        ASSERT_LE(lo, hi);
        ASSERT_LE(hi, q);
        for (int k = lo; k <= hi; ++k) row[k] = 1;
      });
      for (int k = 0; k <= q; ++k)
        ASSERT_EQ(row[k], attn::visible(q, k, m) ? 1 : 0)
            << "trial " << trial << " G=" << m.sparse_global << " L=" << m.sparse_local
            << " R=" << m.sparse_random << " q=" << q << " k=" << k;
    }
  }
}

TEST(KeyIntervals, EmptySparsePatternHasNoIntervals) {
  attn::MaskSpec m;
  m.kind = attn::MaskKind::Sparse;  // G = L = R = 0: no key at all, not even self
  std::vector<core::KeyInterval> iv;
  core::visible_key_intervals(5, m, iv);
  EXPECT_TRUE(iv.empty());
}

}  // namespace
