// Mask rules at their edges, and the fast mask grid against attn::visible on every pair.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "core/attention/mask_names.h"
#include "core/attention/spec.h"
#include "core/views/mask_grid.h"

namespace {

using attn::MaskKind;
using attn::WindowConvention;

core::Scene swa_scene(int n, int w, WindowConvention c) {
  core::Scene s;
  s.seq_len = n;
  s.query = n - 1;
  s.mask = MaskKind::SlidingWindow;
  s.window = w;
  s.window_convention = c;
  return s;
}

int64_t brute_pairs(const core::Scene& s) {
  std::vector<int32_t> ends;
  const attn::MaskSpec m = core::mask_spec(s, ends);
  int64_t n = 0;
  for (int q = 0; q < s.seq_len; ++q)
    for (int k = 0; k < s.seq_len; ++k) n += attn::visible(q, k, m);
  return n;
}

TEST(MaskRules, SingleTokenSeesItself) {
  for (MaskKind kind :
       {MaskKind::Causal, MaskKind::SlidingWindow, MaskKind::Chunked, MaskKind::BlockDiagonal}) {
    core::Scene s = swa_scene(1, 1, WindowConvention::IncludingSelf);
    s.mask = kind;
    s.query = 0;
    EXPECT_EQ(core::count_visible_pairs(s), 1) << core::mask_kind_name(kind);
    EXPECT_EQ(core::build_mask_grid(s).visible_pairs, 1);
  }
}

TEST(MaskRules, WindowOfOneDependsOnConvention) {
  // W=1 including self is the diagonal; self plus 1 previous adds the sub-diagonal.
  const int n = 10;
  EXPECT_EQ(core::count_visible_pairs(swa_scene(n, 1, WindowConvention::IncludingSelf)), n);
  EXPECT_EQ(core::count_visible_pairs(swa_scene(n, 1, WindowConvention::SelfPlusPrevious)),
            2 * n - 1);
  attn::MaskSpec m;
  m.kind = MaskKind::SlidingWindow;
  m.window = 1;
  m.convention = WindowConvention::IncludingSelf;
  EXPECT_TRUE(attn::visible(5, 5, m));
  EXPECT_FALSE(attn::visible(5, 4, m));
  m.convention = WindowConvention::SelfPlusPrevious;
  EXPECT_TRUE(attn::visible(5, 4, m));
  EXPECT_FALSE(attn::visible(5, 3, m));
  EXPECT_FALSE(attn::visible(4, 5, m));  // never the future
}

TEST(MaskRules, WindowAtLeastNIsCausal) {
  for (int n : {1, 7, 33})
    for (int w : {n, n + 1, 5 * n})
      for (WindowConvention c :
           {WindowConvention::IncludingSelf, WindowConvention::SelfPlusPrevious})
        EXPECT_EQ(core::count_visible_pairs(swa_scene(n, w, c)), int64_t{n} * (n + 1) / 2);
}

TEST(MaskRules, HandCountedWindows) {
  // sum over q of min(q+1, keys per row): 16 keys -> 136 + 48*16; 17 keys -> 153 + 47*17.
  EXPECT_EQ(core::count_visible_pairs(swa_scene(64, 16, WindowConvention::IncludingSelf)), 904);
  EXPECT_EQ(core::count_visible_pairs(swa_scene(64, 16, WindowConvention::SelfPlusPrevious)), 952);
}

TEST(MaskRules, WindowEdgeExactlyAtBoundary) {
  attn::MaskSpec m;
  m.kind = MaskKind::SlidingWindow;
  m.window = 8;
  m.convention = WindowConvention::IncludingSelf;
  EXPECT_TRUE(attn::visible(20, 13, m));   // q-k = 7 = W-1
  EXPECT_FALSE(attn::visible(20, 12, m));  // q-k = 8
  m.convention = WindowConvention::SelfPlusPrevious;
  EXPECT_TRUE(attn::visible(20, 12, m));  // q-k = 8 = W
  EXPECT_FALSE(attn::visible(20, 11, m));
}

TEST(MaskRules, SegmentsNeverMix) {
  core::Scene s;
  s.seq_len = 12;
  s.query = 11;
  s.mask = MaskKind::BlockDiagonal;
  s.window = 0;
  s.segments = {3, 4};  // [0,3) [3,7) and a trailing [7,12)
  std::vector<int32_t> ends;
  const attn::MaskSpec m = core::mask_spec(s, ends);
  EXPECT_TRUE(attn::visible(2, 0, m));
  EXPECT_FALSE(attn::visible(3, 2, m));
  EXPECT_TRUE(attn::visible(6, 3, m));
  EXPECT_FALSE(attn::visible(7, 6, m));
  EXPECT_TRUE(attn::visible(11, 7, m));
  // 3*4/2 + 4*5/2 + 5*6/2
  EXPECT_EQ(core::count_visible_pairs(s), 6 + 10 + 15);
  const core::MaskGrid g = core::build_mask_grid(s);
  EXPECT_EQ(g.segment_starts, (std::vector<int>{3, 7}));
}

// Packed prompts restart their RoPE positions where their segment starts: the first key a
// causal block-diagonal row can see (brute force over visible), and by hand for ends {3, 7}.
TEST(MaskRules, SegmentStartIsTheFirstKeyARowSees) {
  const int32_t ends[] = {3, 7};
  attn::MaskSpec m;
  m.kind = MaskKind::BlockDiagonal;
  m.segment_ends = ends;
  m.n_segments = 2;
  for (int q = 0; q < 12; ++q) {
    int first = 0;
    while (!attn::visible(q, first, m)) ++first;
    EXPECT_EQ(attn::segment_start(q, ends, 2), first) << q;
    EXPECT_EQ(attn::segment_start(q, ends, 2), q < 3 ? 0 : q < 7 ? 3 : 7) << q;
  }
}

// The names of xformers.ops.fmha.attn_bias that Mistral's reference code uses, by hand.
TEST(MaskNames, XformersNames) {
  attn::MaskSpec m;
  EXPECT_STREQ(attn::xformers_mask_name(m), "LowerTriangularMask");
  m.kind = MaskKind::SlidingWindow;
  m.window = 8;
  EXPECT_STREQ(attn::xformers_mask_name(m), "LowerTriangularFromBottomRightLocalAttentionMask");
  m.kind = MaskKind::BlockDiagonal;
  EXPECT_STREQ(attn::xformers_mask_name(m), "BlockDiagonalCausalLocalAttentionMask");
  m.window = 0;
  EXPECT_STREQ(attn::xformers_mask_name(m), "BlockDiagonalCausalMask");
  m.kind = MaskKind::Chunked;
  EXPECT_STREQ(attn::xformers_mask_name(m), "BlockDiagonalCausalWithOffsetPaddedKeysMask");
  m.kind = MaskKind::Sparse;
  EXPECT_STREQ(attn::xformers_mask_name(m), "");
  // The mask view carries the name of the scene's mask.
  core::Scene s;
  s.mask = MaskKind::BlockDiagonal;
  s.window = 0;
  s.seq_len = 12;
  EXPECT_EQ(core::build_mask_grid(s).xformers, "BlockDiagonalCausalMask");
}

TEST(MaskRules, SparseIsDeterministicAndCausal) {
  core::Scene s;
  s.seq_len = 200;
  s.query = 199;
  s.mask = MaskKind::Sparse;
  s.sparse = {3, 5, 4, 42};
  const core::MaskGrid a = core::build_mask_grid(s), b = core::build_mask_grid(s);
  EXPECT_EQ(a.cells, b.cells);
  s.sparse.seed = 43;
  const core::MaskGrid c = core::build_mask_grid(s);
  EXPECT_NE(a.cells, c.cells);
  for (int q = 0; q < 200; ++q)
    for (int i = 0; i < 4; ++i) {
      const int k = attn::sparse_random_key(q, i, 42);
      EXPECT_GE(k, 0);
      EXPECT_LE(k, q);
    }
  std::vector<int32_t> ends;
  const attn::MaskSpec m = core::mask_spec(s, ends);
  for (int q = 0; q < 200; ++q) {
    EXPECT_FALSE(attn::visible(q, q + 1, m));
    EXPECT_TRUE(attn::visible(q, 0, m));  // global key
    EXPECT_TRUE(attn::visible(q, q, m));  // local band includes self
  }
}

TEST(MaskRules, IntervalsMatchVisibleForRandomScenes) {
  std::mt19937 rng(1234);
  std::vector<core::KeyInterval> iv;
  for (int trial = 0; trial < 300; ++trial) {
    core::Scene s;
    s.seq_len = 1 + static_cast<int>(rng() % 90);
    s.query = s.seq_len - 1;
    s.mask = static_cast<MaskKind>(rng() % 5);
    s.window = static_cast<int>(rng() % 20);
    s.window_convention = static_cast<WindowConvention>(rng() % 2);
    s.chunk = static_cast<int>(rng() % 10);
    s.segments.clear();
    for (int i = static_cast<int>(rng() % 4); i > 0; --i)
      s.segments.push_back(1 + static_cast<int>(rng() % 30));
    s.sparse = {static_cast<int>(rng() % 5), static_cast<int>(rng() % 8),
                static_cast<int>(rng() % 5), static_cast<uint32_t>(rng())};
    std::vector<int32_t> ends;
    const attn::MaskSpec m = core::mask_spec(s, ends);
    for (int q = 0; q < s.seq_len; ++q) {
      core::visible_key_intervals(q, m, iv);
      std::vector<uint8_t> row(s.seq_len, 0);
      for (const core::KeyInterval& i : iv)
        for (int k = i.lo; k <= i.hi; ++k) row[k] = 1;
      for (int k = 0; k < s.seq_len; ++k)
        ASSERT_EQ(row[k], attn::visible(q, k, m) ? 1 : 0)
            << "trial " << trial << " kind " << core::mask_kind_name(s.mask) << " q=" << q
            << " k=" << k;
    }
    EXPECT_EQ(core::count_visible_pairs(s), brute_pairs(s));
  }
}

TEST(MaskGrid, DownsampledCellsAreBlockFractions) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 40; ++trial) {
    core::Scene s;
    s.seq_len = 50 + static_cast<int>(rng() % 250);
    s.query = 0;
    s.mask = static_cast<MaskKind>(rng() % 5);
    s.window = 1 + static_cast<int>(rng() % 40);
    s.window_convention = static_cast<WindowConvention>(rng() % 2);
    s.segments = {17, 40};
    const int max_cells = 7 + static_cast<int>(rng() % 40);
    const core::MaskGrid g = core::build_mask_grid(s, max_cells);
    ASSERT_LE(g.rows, max_cells);
    std::vector<int32_t> ends;
    const attn::MaskSpec m = core::mask_spec(s, ends);
    for (int r = 0; r < g.rows; ++r)
      for (int c = 0; c < g.cols; ++c) {
        int vis = 0, all = 0;
        for (int q = r * g.block; q < std::min(s.seq_len, (r + 1) * g.block); ++q)
          for (int k = c * g.block; k < std::min(s.seq_len, (c + 1) * g.block); ++k) {
            vis += attn::visible(q, k, m);
            ++all;
          }
        // Cells hold the exact fraction rounded to float32 (< 6e-8 for values <= 1).
        ASSERT_NEAR(g.cells[r * g.cols + c], static_cast<double>(vis) / all, 1e-6)
            << "trial " << trial << " cell " << r << "," << c;
      }
    EXPECT_EQ(g.visible_pairs, brute_pairs(s));
  }
}

TEST(MaskGrid, ExactGridHasOneCellPerPair) {
  const core::Scene s = swa_scene(40, 5, WindowConvention::IncludingSelf);
  const core::MaskGrid g = core::build_mask_grid(s);
  EXPECT_EQ(g.block, 1);
  EXPECT_EQ(g.rows, 40);
  EXPECT_FLOAT_EQ(g.cells[10 * 40 + 6], 1.0f);  // q-k = 4 = W-1
  EXPECT_FLOAT_EQ(g.cells[10 * 40 + 5], 0.0f);
  EXPECT_NEAR(g.ratio, 190.0 / 820.0, 1e-12);  // 1+2+3+4+5*36 of 40*41/2
}

TEST(MaskGrid, ChunkBoundaries) {
  core::Scene s = swa_scene(20, 0, WindowConvention::IncludingSelf);
  s.mask = MaskKind::Chunked;
  s.chunk = 6;
  EXPECT_EQ(core::build_mask_grid(s).chunk_starts, (std::vector<int>{6, 12, 18}));
}

// Speed is a benchmark's job; this checks the downsampled grid's counts at a size where a
// per-pair loop would be too slow to finish (the time is printed, never asserted).
TEST(MaskGrid, LargeGridDownsamples) {
  core::Scene s = swa_scene(32768, 4096, WindowConvention::SelfPlusPrevious);
  const auto t0 = std::chrono::steady_clock::now();
  const core::MaskGrid g = core::build_mask_grid(s);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("mask grid N=32768 W=4096: %.1f ms (%d x %d cells)\n", ms, g.rows, g.cols);
  EXPECT_EQ(g.rows, 512);
  // Rows 0..4096 see q+1 keys, the rest W+1 = 4097.
  const int64_t expect = int64_t{4097} * 4098 / 2 + int64_t{32768 - 4097} * 4097;
  EXPECT_EQ(g.visible_pairs, expect);
}

TEST(MaskDescribe, SaysWhy) {
  const core::Scene s = swa_scene(32, 8, WindowConvention::IncludingSelf);
  EXPECT_EQ(core::describe_mask_cell(s, 12, 3),
            "q=12, k=3: masked (outside window: q-k=9 > W-1=7, W=8 keys including self)");
  EXPECT_NE(core::describe_mask_cell(s, 12, 5).find("visible"), std::string::npos);
  EXPECT_NE(core::describe_mask_cell(s, 3, 12).find("future"), std::string::npos);
  const core::Scene p = swa_scene(32, 8, WindowConvention::SelfPlusPrevious);
  EXPECT_EQ(core::describe_mask_cell(p, 12, 3),
            "q=12, k=3: masked (outside window: q-k=9 > W=8, self plus W previous)");
  EXPECT_NE(core::describe_mask_cell(p, 12, 4).find("visible"), std::string::npos);
}

}  // namespace
