// Attention rollout: every row of the rollout is a distribution (sums to 1), the per-query
// rollout the view uses equals the row of the full matrix product, and under a sliding window
// no influence lies beyond the theoretical reach l·D+1. Synthetic captures always run; the
// real-model cases skip when SmolLM2 is not downloaded.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "core/io/atomic_write.h"
#include "core/model/tokenizer_gguf.h"
#include "core/session/live_runs.h"
#include "core/views/live_rollout.h"

namespace {

using core::model::Capture;

// A pass over n tokens whose every layer uses `window` (0 = causal), with random softmax rows
// that are zero exactly where the mask hides a key.
core::LivePass synthetic_pass(int n, int layers, int heads, int window, uint32_t seed) {
  core::LivePass p;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-3, 3);
  auto cap = std::make_shared<Capture>();
  cap->n_tokens = n;
  for (int l = 0; l < layers; ++l) {
    core::model::LayerPlan lp;
    lp.mask.kind = window > 0 ? attn::MaskKind::SlidingWindow : attn::MaskKind::Causal;
    lp.mask.window = window;
    p.plan.push_back(lp);
    for (int h = 0; h < heads; ++h) {
      core::model::AttentionCapture a{l, h, n, {}};
      for (int q = 0; q < n; ++q) {
        std::vector<float> row(q + 1, 0.0f);
        float s = 0;
        for (int k = 0; k <= q; ++k)
          if (attn::visible(q, k, lp.mask)) s += row[k] = std::exp(u(rng));
        for (float& x : row) a.p.push_back(x / s);
      }
      cap->attention.push_back(std::move(a));
    }
  }
  p.capture = cap;
  p.tokens.assign(n, 1);
  p.labels.assign(n, "t");
  return p;
}

core::model::Config synthetic_config(int layers, int heads) {
  core::model::Config c;
  c.n_layers = layers;
  c.n_heads = heads;
  c.n_kv_heads = heads;
  c.layers.resize(layers);
  return c;
}

TEST(LiveRollout, FullMatrixRowsSumToOne) {
  const core::LivePass p = synthetic_pass(24, 5, 3, 0, 7);
  for (int layers = 1; layers <= 5; ++layers) {
    const std::vector<double> r = core::attention_rollout(*p.capture, layers, 3, 24);
    for (int q = 0; q < 24; ++q) {
      double s = 0;
      for (int k = 0; k < 24; ++k) {
        EXPECT_GE(r[q * 24 + k], 0.0);
        s += r[q * 24 + k];
      }
      // Double arithmetic on rows that sum to 1: 24 x 5 roundings of 2^-53 stay below 1e-12.
      EXPECT_NEAR(s, 1.0, 1e-12) << "layers " << layers << " row " << q;
    }
  }
}

TEST(LiveRollout, QueryRowEqualsMatrixRow) {
  const int n = 20, layers = 4, heads = 2;
  const core::LivePass p = synthetic_pass(n, layers, heads, 0, 11);
  const core::model::Config c = synthetic_config(layers, heads);
  for (int q : {0, 7, 19}) {
    const core::LiveRollout ro = core::build_live_rollout(p, c, q);
    ASSERT_EQ(static_cast<int>(ro.layers.size()), layers);
    for (int l = 1; l <= layers; ++l) {
      const std::vector<double> r = core::attention_rollout(*p.capture, l, heads, n);
      double s = 0;
      for (int k = 0; k < n; ++k) {
        // The view stores influence as float32: one rounding of a value <= 1 (< 6e-8).
        EXPECT_NEAR(ro.layers[l - 1].influence[k], r[q * n + k], 1e-6);
        s += ro.layers[l - 1].influence[k];
      }
      // n = 20 float32 roundings of values summing to 1 (< 20 * 6e-8).
      EXPECT_NEAR(s, 1.0, 1e-5);
    }
  }
}

TEST(LiveRollout, SlidingWindowHasNoMassBeyondReach) {
  const int n = 40, layers = 6, heads = 2, w = 4;  // W keys including self: D = 3 per layer
  const core::LivePass p = synthetic_pass(n, layers, heads, w, 3);
  const core::model::Config c = synthetic_config(layers, heads);
  const int q = n - 1;
  const core::LiveRollout ro = core::build_live_rollout(p, c, q);
  for (int l = 1; l <= layers; ++l) {
    const core::RolloutLayer& rl = ro.layers[l - 1];
    EXPECT_EQ(rl.reach_tokens, l * (w - 1) + 1);
    EXPECT_EQ(rl.reach_lo, q - l * (w - 1));
    const std::vector<double> r = core::attention_rollout(*p.capture, l, heads, n);
    for (int k = 0; k < rl.reach_lo; ++k) EXPECT_EQ(r[q * n + k], 0.0) << "l=" << l << " k=" << k;
    EXPECT_GT(r[q * n + rl.reach_lo], 0.0) << "the reach is attained, l=" << l;
    EXPECT_EQ(rl.beyond_reach, 0.0f);
  }
}

std::shared_ptr<const core::model::Model> smollm2() {
  static std::shared_ptr<const core::model::Model> m;
  const std::string path = core::model::resolve_model_path("smollm2");
  if (!m && std::filesystem::exists(path)) m = core::model::Model::load(path);
  return m;
}

TEST(LiveRollout, RealModelRowsSumToOneAndRespectWindow) {
  auto m = smollm2();
  if (!m) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  const std::vector<int32_t> ids =
      tok.encode(core::read_file(std::string(ATTNLAB_ASSET_DIR) + "/prompts/induction.txt"));
  const int n = static_cast<int>(ids.size());
  core::ModelVariant v;
  v.window = 3;  // 30 layers x 2 = 60 > n: the reach covers everything only near the top
  const core::LivePass p = core::run_live_pass(m, tok, ids, v, {});
  const core::model::Config& c = m->config();
  const std::vector<double> r = core::attention_rollout(*p.capture, c.n_layers, c.n_heads, n);
  for (int q = 0; q < n; ++q) {
    double s = 0;
    for (int k = 0; k < n; ++k) s += r[q * n + k];
    // Float32 captured rows (each within n * 2^-24 of 1) mixed in double over 30 layers.
    EXPECT_NEAR(s, 1.0, 1e-6) << "row " << q;
  }
  const core::LiveRollout ro = core::build_live_rollout(p, c, n - 1);
  for (const core::RolloutLayer& rl : ro.layers) {
    EXPECT_EQ(rl.reach_lo, std::max(0, n - 1 - 2 * rl.layer));
    for (int k = 0; k < rl.reach_lo; ++k) EXPECT_EQ(rl.influence[k], 0.0f);
  }
}

}  // namespace
