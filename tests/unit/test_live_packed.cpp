// Packed prompts in the live views: the scene's block-diagonal segments reach the live run,
// the prompt is cut to their sum (or refused with both counts when shorter), and the worker
// reports how far the packed pass is from each segment run alone. That difference is what the
// view prints, so it is held to the policy of test_packed_forward: at most twice the float32
// noise floor measured here (each segment one-shot against token by token).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "core/model/tokenizer_gguf.h"
#include "core/session/live_packed.h"
#include "core/session/live_session.h"
#include "core/session/session.h"

namespace {

constexpr double kTimeout = 300;

TEST(LivePacked, FitToSegmentsCutsOrRefuses) {
  std::vector<int32_t> t = {1, 2, 3, 4, 5, 6, 7};
  bool cut = false;
  core::fit_to_segments(t, {}, &cut);  // no segments: untouched
  EXPECT_EQ(t.size(), 7u);
  EXPECT_FALSE(cut);
  core::fit_to_segments(t, {3, 4}, &cut);  // exactly the sum
  EXPECT_EQ(t.size(), 7u);
  EXPECT_FALSE(cut);
  core::fit_to_segments(t, {2, 3}, &cut);
  EXPECT_EQ(t, (std::vector<int32_t>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(cut);
  try {
    core::fit_to_segments(t, {4, 4}, &cut);
    FAIL() << "a prompt shorter than the segments was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("need 8 tokens, but the prompt has 5"), std::string::npos)
        << e.what();
  }
}

TEST(LivePacked, LiveRunPacksOnlyUnderTheBlockDiagonalMask) {
  core::Scene s;
  s.segments = {5, 6, 4};
  s.mask = attn::MaskKind::BlockDiagonal;
  EXPECT_EQ(core::live_run(s, "x").variant.segments, s.segments);
  s.mask = attn::MaskKind::SlidingWindow;
  EXPECT_TRUE(core::live_run(s, "x").variant.segments.empty());
}

// Each segment of `tokens` alone: one-shot against token by token, the largest |dlogit|.
double noise_floor(const std::shared_ptr<const core::model::Model>& m,
                   const std::vector<int32_t>& tokens, const std::vector<int>& segments) {
  double f = 0;
  size_t start = 0;
  for (int len : segments) {
    const std::vector<int32_t> seg(tokens.begin() + start, tokens.begin() + start + len);
    core::model::RunOptions a, b;
    a.capture.attention = b.capture.attention = false;
    b.variant.chunk = 1;
    core::model::Session sa(m, a), sb(m, b);
    const std::vector<float> la = sa.prefill(seg, true), lb = sb.prefill(seg, true);
    for (size_t i = 0; i < la.size(); ++i) f = std::max(f, double(std::fabs(la[i] - lb[i])));
    start += len;
  }
  return f;
}

TEST(LivePacked, WorkerReportsPackedAgainstSeparatePasses) {
  const std::string path = core::model::resolve_model_path("smollm2");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "SmolLM2 not downloaded: " << path;
  core::LiveSession live;
  core::LiveRun run;
  run.prompt =
      "The capital of France is Paris. Water boils at one hundred degrees. My cat "
      "sleeps all day long on the sofa in the sun.";
  run.variant.segments = {7, 8, 6};
  live.update(run);
  ASSERT_TRUE(live.wait_idle(kTimeout));
  auto r = live.result();
  ASSERT_TRUE(r->error.empty()) << r->error;
  ASSERT_TRUE(r->pass && r->packed);
  EXPECT_EQ(r->pass->tokens.size(), 21u);
  EXPECT_TRUE(r->pass->truncated);  // the prompt has more tokens than 7 + 8 + 6
  EXPECT_EQ(r->pass->plan[0].mask.kind, attn::MaskKind::BlockDiagonal);
  EXPECT_EQ(r->packed->segments, run.variant.segments);
  const auto m = core::model::Model::load(path);
  const double floor = noise_floor(m, r->pass->tokens, run.variant.segments);
  ASSERT_GT(floor, 0.0);
  std::printf("live packed: max|dlogit| %.3g (floor %.3g), max|dp| %.3g\n", r->packed->max_dlogit,
              floor, r->packed->max_dp);
  // Two valid orders each sit within the floor f of exact arithmetic, so they differ by <= 2f.
  EXPECT_LE(r->packed->max_dlogit, 2 * floor);
  EXPECT_GT(r->packed->max_logit, 0.0);

  // A prompt shorter than the segments is refused, naming both counts.
  run.variant.segments = {7, 8, 60};
  live.update(run);
  ASSERT_TRUE(live.wait_idle(kTimeout));
  r = live.result();
  EXPECT_NE(r->error.find("segments need 75 tokens, but the prompt has"), std::string::npos)
      << r->error;
}

}  // namespace
