// LiveSession on the real model: results follow the latest scene, stale passes are cancelled,
// a GGUF that fails to load keeps the previous model (and says why), the ring generation
// matches the full cache while N <= W and holds the last W positions in slot p mod W, and
// pooling reports a perplexity. Skips when SmolLM2 is not downloaded.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "core/io/atomic_write.h"
#include "core/model/tokenizer_gguf.h"
#include "core/session/live_runs.h"
#include "core/session/live_session.h"

namespace {

bool have_smollm2() {
  return std::filesystem::exists(core::model::resolve_model_path("smollm2"));
}

std::string asset(const std::string& rel) {
  return core::read_file(std::string(ATTNLAB_ASSET_DIR) + "/" + rel);
}

core::Scene live_scene(const std::string& prompt) {
  core::Scene s;
  s.model = "smollm2";
  s.prompt = prompt;
  s.window = 8;
  return s;
}

// What the worker runs for this scene, with variant.window as the live window override (the
// LiveSession level below core::Session, which derives it from the scene's one window).
core::LiveRun run_of(const core::Scene& s) {
  core::LiveRun r;
  r.model = s.model;
  r.prompt = s.prompt;
  r.variant = s.variant;
  r.ring_window = core::ring_generation_window(s.variant, s.window);
  return r;
}

constexpr double kTimeout = 300;

TEST(LiveSession, PassFollowsSceneAndLayerChangesAreFree) {
  if (!have_smollm2()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  core::LiveSession live;
  core::Scene s = live_scene(asset("prompts/capitals.txt"));
  live.update(run_of(s));
  ASSERT_TRUE(live.wait_idle(kTimeout));
  auto r = live.result();
  ASSERT_TRUE(r->error.empty()) << r->error;
  ASSERT_TRUE(r->pass && r->config);
  EXPECT_EQ(r->backend, "cpu");
  EXPECT_FALSE(r->model_name.empty());
  const core::model::Tokenizer tok =
      core::model::load_tokenizer(core::model::Model::load(r->model_path)->gguf());
  EXPECT_EQ(r->pass->tokens, tok.encode(s.prompt));
  EXPECT_EQ(r->pass->capture->attention.size(),
            static_cast<size_t>(r->config->n_layers * r->config->n_heads));
  EXPECT_GT(r->pass->ms, 0);
  EXPECT_EQ(r->native, r->pass) << "a native setting is its own reference";
  // Layer / head / view changes recompute nothing.
  const uint64_t rev = r->revision;
  s.layer = 5;
  s.head = 2;
  s.view = "live_attention";
  live.update(run_of(s));
  EXPECT_TRUE(live.idle());
  EXPECT_EQ(live.result()->revision, rev);
}

TEST(LiveSession, NewerChangeCancelsStalePass) {
  if (!have_smollm2()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  core::LiveSession live;
  live.update(run_of(live_scene("Hi")));
  ASSERT_TRUE(live.wait_idle(kTimeout));
  // A long prompt keeps the worker busy long enough to be overtaken.
  core::Scene s = live_scene(asset("texts/ppl.txt"));
  live.update(run_of(s));
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    const core::LiveProgress p = live.progress();
    if (p.busy && p.stage == "forward pass" && p.fraction > 0) break;
    ASSERT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(120));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  s.prompt = asset("prompts/story.txt");
  live.update(run_of(s));
  ASSERT_TRUE(live.wait_idle(kTimeout));
  auto r = live.result();
  EXPECT_GE(r->cancelled, 1) << "the long pass should have been cancelled";
  ASSERT_TRUE(r->pass);
  EXPECT_EQ(r->prompt, s.prompt);
  EXPECT_LT(r->pass->tokens.size(), 20u) << "the published pass is the newer, short prompt";
}

TEST(LiveSession, FailedLoadKeepsPreviousModel) {
  if (!have_smollm2()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  core::LiveSession live;
  core::Scene s = live_scene("The cat sat on the mat.");
  live.update(run_of(s));
  ASSERT_TRUE(live.wait_idle(kTimeout));
  const auto before = live.result();
  ASSERT_TRUE(before->pass);

  const std::string bad =
      (std::filesystem::temp_directory_path() / "attnlab_live_bad.gguf").string();
  core::write_file_atomic(bad, "GGUF but not really a model");
  s.model = bad;
  live.update(run_of(s));
  ASSERT_TRUE(live.wait_idle(kTimeout));
  auto r = live.result();
  EXPECT_NE(r->error.find(bad), std::string::npos) << r->error;
  EXPECT_EQ(r->model_path, before->model_path);
  EXPECT_EQ(r->pass, before->pass);

  s.prompt = "The dog sat on the log.";  // the previous model keeps running
  live.update(run_of(s));
  ASSERT_TRUE(live.wait_idle(kTimeout));
  r = live.result();
  ASSERT_TRUE(r->pass);
  EXPECT_EQ(r->prompt, s.prompt);
  EXPECT_EQ(r->model_path, before->model_path);
  std::filesystem::remove(bad);
}

TEST(LiveSession, RingGenerationMatchesFullCacheWhileItFits) {
  if (!have_smollm2()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  core::LiveSession live;
  core::Scene s = live_scene(asset("prompts/story.txt"));
  s.variant.window = 32;
  live.update(run_of(s));
  live.step(3);
  ASSERT_TRUE(live.wait_idle(kTimeout));
  auto r = live.result();
  ASSERT_TRUE(r->generation) << r->error;
  const core::LiveGeneration& g = *r->generation;
  ASSERT_EQ(g.steps.size(), 4u);
  const int n = g.steps.back().n_tokens;
  ASSERT_LE(n, 32);
  EXPECT_EQ(g.ring_tokens, g.full_tokens) << "N <= W: the ring must equal the full cache";
  EXPECT_EQ(g.first_divergence, -1);

  // A window smaller than the prompt: slot p mod W holds the last W positions.
  s.variant.window = 5;
  live.update(run_of(s));
  live.step(3);
  ASSERT_TRUE(live.wait_idle(kTimeout));
  r = live.result();
  ASSERT_TRUE(r->generation) << r->error;
  const core::GenStep& last = r->generation->steps.back();
  const core::model::CacheCapture& cc = last.ring[r->generation->ring_layer];
  ASSERT_EQ(cc.n_slots, 5);
  for (int p = last.n_tokens - 5; p < last.n_tokens; ++p) EXPECT_EQ(cc.slot_pos[p % 5], p);
  for (int s2 = 0; s2 < 5; ++s2) EXPECT_GT(cc.k_norm[s2 * cc.n_kv_heads], 0.0f);
}

TEST(LiveSession, PoolingReportsPerplexityAndSpeedIsMeasured) {
  if (!have_smollm2()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  core::LiveSessionOptions o;
  o.ppl_max_tokens = 96;
  o.speed_steps = 6;
  core::LiveSession live(o);
  core::Scene s = live_scene(asset("prompts/capitals.txt"));
  s.variant.kv_heads = 1;
  live.update(run_of(s));
  live.measure_speed();
  ASSERT_TRUE(live.wait_idle(kTimeout));
  auto r = live.result();
  ASSERT_TRUE(r->pass && r->native && r->perplexity) << r->error;
  EXPECT_EQ(r->pass->kv_heads, 1);
  EXPECT_EQ(r->native->kv_heads, r->config->n_kv_heads);
  EXPECT_EQ(r->perplexity->n_tokens, 96);
  EXPECT_TRUE(std::isfinite(r->perplexity->native) && r->perplexity->native > 1);
  EXPECT_TRUE(std::isfinite(r->perplexity->variant) && r->perplexity->variant > 1);
  EXPECT_NE(r->perplexity->native, r->perplexity->variant);
  ASSERT_TRUE(r->speed);
  EXPECT_GT(r->speed->cache_tok_s, 0);
  EXPECT_GT(r->speed->none_tok_s, 0);
}

}  // namespace
