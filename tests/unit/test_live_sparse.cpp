// The scene's sparse pattern on the live model: a scene with mask "sparse" runs every layer of
// the real model under spec.h's Sparse rule (captured attention is exactly 0 on every key the
// rule hides, and each row's nonzero probabilities are exactly the keys it shows, counted by
// brute force over attn::visible), the perplexity stage scores the same pattern, and the
// status line quotes both. The mapping itself needs no model.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/session/session.h"
#include "core/views/live_sparse.h"
#include "core/views/sparse_patterns.h"

namespace {

core::Scene sparse_scene() {
  core::Scene s;
  s.model = "smollm2";
  s.prompt =
      "The capital of France is Paris. The capital of Italy is Rome. The capital of "
      "Spain is Madrid. The capital of Germany is";
  s.mask = attn::MaskKind::Sparse;
  s.sparse = {2, 6, 2, 5};
  return s;
}

TEST(LiveSparse, TheScenesPatternReachesTheLiveRun) {
  core::Scene s = sparse_scene();
  core::ModelVariant v = core::live_run(s, "x").variant;
  EXPECT_EQ(v.sparse_global, 2);
  EXPECT_EQ(v.sparse_local, 6);
  EXPECT_EQ(v.sparse_random, 2);
  EXPECT_EQ(v.sparse_seed, 5u);
  EXPECT_EQ(v.window, 0);
  s.model_windows = true;  // the model keeps its own masks
  EXPECT_EQ(core::live_run(s, "x").variant.sparse_local, 0);
  s.model_windows = false;
  s.mask = attn::MaskKind::Causal;
  EXPECT_EQ(core::live_run(s, "x").variant.sparse_local, 0);
  s.mask = attn::MaskKind::Sparse;
  s.sparse.local = 0;  // no band: a row could hold no key, so the model runs its own masks
  EXPECT_EQ(core::live_run(s, "x").variant.sparse_local, 0);
}

TEST(LiveSparse, LiveModelRunsUnderThePatternAndReportsWhatItCosts) {
  if (!std::filesystem::exists(core::model::resolve_model_path("smollm2")))
    GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  core::LiveSessionOptions o;
  o.ppl_max_tokens = 64;
  core::Session session(o);
  const core::Scene s = sparse_scene();
  session.update(s);
  session.live();
  ASSERT_TRUE(session.wait_live(300));
  const auto r = session.live_result();
  ASSERT_TRUE(r->error.empty()) << r->error;
  ASSERT_TRUE(r->pass && r->pass->capture);
  const int n = static_cast<int>(r->pass->tokens.size());
  ASSERT_GT(n, 20);
  // The rule, written out here from the scene rather than read back from the pass.
  attn::MaskSpec rule;
  rule.kind = attn::MaskKind::Sparse;
  rule.sparse_global = s.sparse.global;
  rule.sparse_local = s.sparse.local;
  rule.sparse_random = s.sparse.random;
  rule.sparse_seed = s.sparse.seed;
  int64_t pairs = 0;
  for (int q = 0; q < n; ++q)
    for (int k = 0; k <= q; ++k) pairs += attn::visible(q, k, rule) ? 1 : 0;
  ASSERT_LT(pairs, static_cast<int64_t>(n) * (n + 1) / 2) << "the pattern must hide something";
  ASSERT_EQ(r->pass->capture->attention.size(),
            static_cast<size_t>(r->config->n_layers * r->config->n_heads));
  for (const core::model::AttentionCapture& a : r->pass->capture->attention) {
    int64_t nonzero = 0;
    for (int q = 0; q < n; ++q)
      for (int k = 0; k <= q; ++k) {
        const float p = a.at(q, k);
        if (!attn::visible(q, k, rule)) {
          ASSERT_EQ(p, 0.0f) << "layer " << a.layer << " head " << a.head << " q=" << q
                             << " k=" << k;
        }
        nonzero += p != 0.0f ? 1 : 0;
      }
    // A visible key could only read 0 if its score were ~87 below the row's maximum (f32 exp
    // underflow); exact equality is the check that every visible key was computed.
    EXPECT_EQ(nonzero, pairs) << "layer " << a.layer << " head " << a.head;
  }
  // ... and the number `attnlab stats` prints as sparse.visible_pairs for a scene of n tokens.
  core::Scene at_n = s;
  at_n.seq_len = n;
  at_n.query = n - 1;
  EXPECT_EQ(core::build_sparse_patterns(at_n).visible_pairs, pairs);
  const core::LiveSparseCost c = core::build_live_sparse(*r);
  ASSERT_TRUE(c.active);
  EXPECT_EQ(c.visible_pairs, pairs);
  EXPECT_EQ(c.dense_pairs, static_cast<int64_t>(n) * (n + 1) / 2);
  ASSERT_TRUE(c.has_ppl) << c.status;
  EXPECT_EQ(r->perplexity->setting.sparse_local, s.sparse.local);
  EXPECT_EQ(r->perplexity->n_tokens, 64);
  EXPECT_GT(c.ppl_sparse, 1.0);
  EXPECT_GT(c.ppl_dense, 1.0);
  EXPECT_NE(c.ppl_sparse, c.ppl_dense) << "the pattern hides keys the text's tokens use";
  EXPECT_NE(c.status.find(std::to_string(pairs) + " of "), std::string::npos) << c.status;
  EXPECT_NE(c.status.find("vs dense"), std::string::npos) << c.status;
}

}  // namespace
