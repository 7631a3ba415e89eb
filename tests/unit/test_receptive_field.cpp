// Closed-form reach against brute-force propagation of attn::visible through the layers.
#include <gtest/gtest.h>

#include <random>

#include "core/scene/presets.h"
#include "core/views/receptive_field.h"

namespace {

using attn::MaskKind;
using attn::WindowConvention;

TEST(ReceptiveField, ClosedFormFollowsConvention) {
  EXPECT_EQ(core::closed_form_reach(3, 8, WindowConvention::IncludingSelf), 3 * 7 + 1);
  EXPECT_EQ(core::closed_form_reach(3, 8, WindowConvention::SelfPlusPrevious), 3 * 8 + 1);
  EXPECT_EQ(core::closed_form_reach(5, 1, WindowConvention::IncludingSelf), 1);
  EXPECT_EQ(core::closed_form_reach(5, 0, WindowConvention::IncludingSelf), -1);
}

TEST(ReceptiveField, MistralReaches131073) {
  core::Scene s;
  ASSERT_TRUE(core::apply_preset(s, "Mistral-7B"));
  s.seq_len = 32768;
  s.query = 32767;
  const core::ReceptiveField rf = core::build_receptive_field(s);
  ASSERT_EQ(rf.layers.size(), 32u);
  EXPECT_EQ(rf.layers.back().theoretical, 32 * 4096 + 1);
  EXPECT_EQ(rf.layers[0].count, 4097);
  EXPECT_EQ(rf.layers[7].count, 32768);  // 8 layers already cover the whole sequence
}

TEST(ReceptiveField, GemmaGlobalLayersReachEverything) {
  core::Scene s;
  ASSERT_TRUE(core::apply_preset(s, "Gemma-3-270M"));
  s.seq_len = 4096;
  s.query = 4095;
  const core::ReceptiveField rf = core::build_receptive_field(s);
  ASSERT_EQ(rf.layers.size(), 18u);
  EXPECT_EQ(rf.layers[0].count, 512);
  EXPECT_EQ(rf.layers[4].count, 5 * 511 + 1);
  EXPECT_TRUE(rf.layers[5].global);
  EXPECT_FALSE(rf.layers[6].global);
  EXPECT_EQ(rf.layers[5].count, 4096);
  EXPECT_EQ(rf.layers[5].theoretical, -1);
}

TEST(ReceptiveField, ClosedFormMatchesBruteForce) {
  std::mt19937 rng(7);
  const MaskKind kinds[] = {MaskKind::Causal, MaskKind::SlidingWindow, MaskKind::Chunked,
                            MaskKind::BlockDiagonal, MaskKind::Sparse};
  for (int trial = 0; trial < 250; ++trial) {
    core::Scene s;
    s.preset = "custom";
    s.seq_len = 1 + static_cast<int>(rng() % 70);
    s.query = static_cast<int>(rng() % s.seq_len);
    s.n_layers = 1 + static_cast<int>(rng() % 7);
    s.mask = kinds[rng() % 5];
    s.window = static_cast<int>(rng() % 12);
    s.window_convention = static_cast<WindowConvention>(rng() % 2);
    s.global_every = rng() % 3 == 0 ? 1 + static_cast<int>(rng() % s.n_layers) : 0;
    s.segments = {1 + static_cast<int>(rng() % 20), 1 + static_cast<int>(rng() % 20)};
    s.sparse = {static_cast<int>(rng() % 3), static_cast<int>(rng() % 4),
                static_cast<int>(rng() % 3), static_cast<uint32_t>(rng())};
    const core::ReceptiveField rf = core::build_receptive_field(s, 1 << 20);
    const auto brute = core::propagate_reach_brute_force(s);
    ASSERT_EQ(rf.layers.size(), brute.size());
    for (size_t l = 0; l < brute.size(); ++l) {
      int64_t count = 0;
      int lo = s.seq_len, hi = -1;
      for (int k = 0; k < s.seq_len; ++k)
        if (brute[l][k]) {
          ++count;
          lo = std::min(lo, k);
          hi = std::max(hi, k);
        }
      const core::LayerReach& lr = rf.layers[l];
      ASSERT_EQ(lr.count, count) << "trial " << trial << " layer " << l + 1 << " kind "
                                 << core::mask_kind_name(s.mask) << " W=" << s.window;
      if (count > 0) {
        ASSERT_EQ(lr.lo, lo) << "trial " << trial;
        ASSERT_EQ(lr.hi, hi) << "trial " << trial;
      }
      // One bin per position: the coverage row is the reached set itself.
      for (int k = 0; k < s.seq_len; ++k) ASSERT_EQ(lr.coverage[k], brute[l][k] ? 1.0f : 0.0f);
      // Without global layers, the clipped closed form is the count.
      if (lr.theoretical > 0 && s.mask != MaskKind::BlockDiagonal) {
        ASSERT_EQ(count, std::min<int64_t>(lr.theoretical, s.query + 1)) << "trial " << trial;
      }
    }
  }
}

}  // namespace

namespace {

TEST(ReceptiveField, DescribeCell) {
  core::Scene s;
  s.seq_len = 64;
  s.query = 63;
  s.window = 16;
  s.window_convention = attn::WindowConvention::SelfPlusPrevious;
  const core::ReceptiveField rf = core::build_receptive_field(s);
  EXPECT_EQ(core::describe_reach_cell(rf, 0, 47), "after layer 1: position 47 reaches query 63");
  EXPECT_EQ(core::describe_reach_cell(rf, 0, 46),
            "after layer 1: position 46 does not reach query 63");
}

}  // namespace
