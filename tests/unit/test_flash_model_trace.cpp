// The flash view's online-softmax trace on SmolLM2's own Q, K, V: the captured rows give the
// same output as a two-pass softmax computed here in float64, the float64 probabilities
// equal the ones the model's attention produced, and the live session captures the head the
// scene chooses. Skips when SmolLM2 is not downloaded.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/session/live_head.h"
#include "core/session/live_session.h"
#include "core/views/flash_view.h"
#include "model_test_support.h"

namespace {

struct Reference {
  std::vector<double> p;    // [query + 1] softmax, 0 where masked
  std::vector<double> out;  // [head_dim] p . V
  double tol_p = 0;         // error bound of an fp32 computation of p
  double tol_out = 0;       // and of its output
};

// Two-pass softmax of row `query` in float64, with the first-order bound of the same row in
// fp32: each score sum of d products is off by at most gamma_d * scale * sum|q_i k_i|
// (Higham, Accuracy and Stability, eq. 3.5); p moves by twice the largest such error (its
// numerator and the sum), plus at most 4 roundings per key (exp, the running-sum add, the
// tile rescale, the P.V add); the output is a convex mix of V rows, so it moves by that
// relative amount of max|V|.
Reference reference(const core::LiveHeadVectors& hv, int query) {
  const core::model::HeadVectors& v = hv.vectors;
  const int d = v.head_dim, n = query + 1;
  const double u = std::ldexp(1.0, -24), gamma = d * u / (1 - d * u);
  Reference r;
  std::vector<double> s(n, 0.0);
  double mx = -1e300, ds = 0, vmax = 0;
  for (int j = 0; j < n; ++j) {
    double dot = 0, mag = 0;
    for (int i = 0; i < d; ++i) {
      const double a = v.q[static_cast<size_t>(query) * d + i],
                   b = v.k[static_cast<size_t>(j) * d + i];
      dot += a * b;
      mag += std::fabs(a * b);
      vmax = std::max(vmax, std::fabs(double(v.v[static_cast<size_t>(j) * d + i])));
    }
    if (!attn::visible(query, j, hv.layer_mask)) continue;
    s[j] = dot * hv.scale;
    ds = std::max(ds, gamma * mag * hv.scale);
    mx = std::max(mx, s[j]);
  }
  double sum = 0;
  r.p.assign(n, 0.0);
  for (int j = 0; j < n; ++j)
    if (attn::visible(query, j, hv.layer_mask)) sum += r.p[j] = std::exp(s[j] - mx);
  r.out.assign(d, 0.0);
  for (int j = 0; j < n; ++j) {
    r.p[j] /= sum;
    for (int i = 0; i < d; ++i) r.out[i] += r.p[j] * v.v[static_cast<size_t>(j) * d + i];
  }
  r.tol_p = 2 * ds + 4.0 * (n + 2) * u;
  r.tol_out = r.tol_p * vmax;
  return r;
}

core::LiveControl two_threads() {
  core::LiveControl c;
  c.n_threads = 2;
  return c;
}

TEST(FlashModelTrace, OnlineRowEqualsFloat64SoftmaxAndTheModelsOwn) {
  NEED_MODEL(m, "smollm2");
  const std::vector<int32_t> ids = test_support::synthetic_ids(*m, 40);
  core::ModelVariant windowed;
  windowed.window = 8;
  struct Case {
    int layer, head;
    core::ModelVariant v;
  };
  for (const Case& c : {Case{0, 0, {}}, Case{7, 4, {}}, Case{29, 8, {}}, Case{3, 2, windowed}}) {
    const core::LiveHeadVectors hv =
        core::capture_head_vectors(m, ids, c.v, c.layer, c.head, two_threads());
    ASSERT_EQ(hv.vectors.n, 40);
    ASSERT_EQ(hv.vectors.head_dim, m->config().head_dim);
    EXPECT_EQ(hv.vectors.kv_head,
              attn::kv_head_of(c.head, m->config().n_heads, m->config().n_kv_heads));
    EXPECT_EQ(hv.layer_mask.window, c.v.window);
    for (int query : {0, 17, 39}) {
      core::Scene s;
      s.query = query;
      s.dtype = core::Dtype::FP16;
      s.flash.sram_bytes = 1024;  // M = 512 elements, d = 64: Bc = 2, so 20 key tiles at q=39
      const core::OnlineSoftmaxTrace t = core::trace_model_row(hv, s, "SmolLM2");
      ASSERT_TRUE(t.from_model);
      ASSERT_EQ(t.query, query);
      EXPECT_EQ(static_cast<int>(t.steps.size()), (query + 2) / 2);
      const Reference r = reference(hv, query);
      for (int i = 0; i < hv.vectors.head_dim; ++i)
        EXPECT_NEAR(t.out_online[i], r.out[i], r.tol_out) << "layer " << c.layer << " q " << query;
      EXPECT_LE(t.max_abs_diff, 2 * r.tol_out);  // the view's own check: both sides within tol
      for (int j = 0; j <= query; ++j)
        EXPECT_NEAR(hv.attention.at(query, j), r.p[j], r.tol_p) << "key " << j;
      EXPECT_LE(t.max_prob_diff_model, 2 * r.tol_p);
    }
  }
}

// Gemma 3: q/k norms before RoPE, its own attention scale, sliding-window local layers
// (layer 0) and global ones (layer 5); the captured rows must be what its attention used.
TEST(FlashModelTrace, Gemma3LocalAndGlobalLayers) {
  NEED_MODEL(m, "gemma3");
  const std::vector<int32_t> ids = test_support::synthetic_ids(*m, 24);
  for (int layer : {0, 5}) {
    const core::LiveHeadVectors hv =
        core::capture_head_vectors(m, ids, {}, layer, 3, two_threads());
    EXPECT_EQ(hv.scale, m->config().attn_scale);
    EXPECT_EQ(hv.layer_mask.window, m->config().layers[layer].window);
    core::Scene s;
    s.query = 23;
    s.flash.sram_bytes = 4096;  // fp16, d = 256: M = 2048, Bc = 2
    const core::OnlineSoftmaxTrace t = core::trace_model_row(hv, s, "Gemma 3");
    const Reference r = reference(hv, 23);
    for (int i = 0; i < hv.vectors.head_dim; ++i)
      EXPECT_NEAR(t.out_online[i], r.out[i], r.tol_out) << "layer " << layer;
    for (int j = 0; j <= 23; ++j)
      EXPECT_NEAR(hv.attention.at(23, j), r.p[j], r.tol_p) << "layer " << layer << " key " << j;
  }
}

TEST(FlashModelTrace, LiveSessionCapturesTheChosenHead) {
  NEED_MODEL(m, "smollm2");
  core::LiveSessionOptions o;
  o.n_threads = 2;
  core::LiveSession live(o);
  core::LiveRun run;
  run.model = "smollm2";
  run.prompt = "The capital of France is Paris. The capital of Italy is";
  live.update(run);
  ASSERT_TRUE(live.wait_idle(300));
  EXPECT_FALSE(live.result()->head_vectors);  // nobody asked
  live.trace_head(5, 3);
  ASSERT_TRUE(live.wait_idle(300));
  auto r = live.result();
  ASSERT_TRUE(r->pass && r->head_vectors) << r->error;
  EXPECT_EQ(r->head_vectors->vectors.layer, 5);
  EXPECT_EQ(r->head_vectors->vectors.head, 3);
  EXPECT_EQ(r->head_vectors->tokens, r->pass->tokens);
  core::Scene s;
  s.layer = 5;
  s.head = 3;
  s.query = 1000;  // past the prompt: the trace takes its last row
  core::FlashView v = core::build_flash_view(s, r.get());
  EXPECT_TRUE(v.trace.from_model);
  EXPECT_EQ(v.trace.query, static_cast<int>(r->pass->tokens.size()) - 1);
  EXPECT_NE(v.trace.source.find("layer 5, head 3"), std::string::npos) << v.trace.source;
  // Another head in the scene: synthetic until the session captured it, then real.
  s.head = 4;
  v = core::build_flash_view(s, r.get());
  EXPECT_FALSE(v.trace.from_model);
  EXPECT_NE(v.trace.source.find("capturing layer 5, head 4"), std::string::npos);
  live.trace_head(5, 4);
  ASSERT_TRUE(live.wait_idle(300));
  r = live.result();
  v = core::build_flash_view(s, r.get());
  EXPECT_TRUE(v.trace.from_model);
  // A new prompt drops the old head's rows with the old pass, then captures them again.
  run.prompt = "Once upon a time";
  live.update(run);
  ASSERT_TRUE(live.wait_idle(300));
  r = live.result();
  ASSERT_TRUE(r->head_vectors);
  EXPECT_EQ(r->head_vectors->tokens, r->pass->tokens);
  EXPECT_FALSE(core::build_flash_view(s, nullptr).trace.from_model);
}

}  // namespace
