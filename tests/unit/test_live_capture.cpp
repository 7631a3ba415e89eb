// Long prompts in the live views (core/session/live_capture.h): beyond 512 tokens a pass keeps
// the focus layer's heads, every layer's mean over heads and block maxima, instead of every
// map. Checked against a session that captures every map (the reference), on the real model:
// the focus heads bit for bit (the same arithmetic), the maxima exactly (a max does not
// round), the means within the rounding of an n_heads-term float sum. A resumed long pass
// equals one from scratch bit for bit. The large map of a long prompt is pooled: every cell is
// the max of its block, and the hover reads the exact value.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <thread>

#include "core/figure/live_views.h"
#include "core/figure/view_registry.h"
#include "core/figure/views.h"
#include "core/model/tokenizer_gguf.h"
#include "core/session/live_capture.h"
#include "core/session/live_reuse.h"
#include "core/session/live_session.h"
#include "core/views/live_attention.h"
#include "core/views/live_rollout.h"
#include "tests/unit/model_test_support.h"

namespace {

using core::ModelVariant;
using core::model::AttentionCapture;

core::LiveControl two_threads() {
  core::LiveControl ctl;
  ctl.n_threads = 2;
  return ctl;
}

ModelVariant window(int w) {
  ModelVariant v;
  v.window = w;
  return v;
}

// The pass with every map captured, in the live pass's chunks (the same arithmetic).
std::unique_ptr<core::model::Session> full_pass(const std::shared_ptr<const core::model::Model>& m,
                                                const std::vector<int32_t>& ids,
                                                const ModelVariant& v) {
  auto s = std::make_unique<core::model::Session>(
      m, core::live_run_options(core::live_pass_variant(v), two_threads(), true, false));
  s->prefill(ids);
  return s;
}

TEST(LiveCapture, LongPassKeepsFocusHeadsMeansAndBlockMaxima) {
  NEED_MODEL(m, "smollm2");
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  const int n = 600, focus = 3;
  const std::vector<int32_t> ids = test_support::synthetic_ids(*m, n);
  const ModelVariant v = window(200);
  core::LivePassCache cache;
  const core::LivePass lp = cache.run(m, tok, ids, v, two_threads(), focus);
  ASSERT_EQ(lp.focus_layer, focus);
  const auto ref = full_pass(m, ids, v);
  const core::model::Config& c = m->config();
  const int H = c.n_heads;
  // Only the focus layer's heads and the L means are held.
  EXPECT_EQ(lp.capture->attention.size(), static_cast<size_t>(H + c.n_layers));
  for (int h = 0; h < H; ++h) {
    const AttentionCapture* a = lp.capture->find(focus, h);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->p, ref->capture().find(focus, h)->p) << "head " << h;
    EXPECT_EQ(lp.capture->find(focus + 1, h), nullptr);
  }
  const int nb = (n + core::kLongThumbBlock - 1) / core::kLongThumbBlock;
  ASSERT_EQ(lp.thumbs->thumb, nb);  // 5 blocks a side: one thumbnail cell each
  for (int l = 0; l < c.n_layers; ++l) {
    const AttentionCapture* mean = lp.capture->find(l, core::kLayerMean);
    ASSERT_TRUE(mean);
    std::vector<const AttentionCapture*> heads;
    for (int h = 0; h < H; ++h) heads.push_back(ref->capture().find(l, h));
    float worst = 0;
    for (int q = 0; q < n; ++q)
      for (int k = 0; k <= q; ++k) {
        double s = 0;
        for (int h = 0; h < H; ++h) s += heads[h]->at(q, k);
        worst = std::max(worst, static_cast<float>(std::fabs(mean->at(q, k) - s / H)));
      }
    // A float sum of H terms of at most 1/H each: at most H roundings of 2^-24 (float64
    // reference).
    EXPECT_LE(worst, H * std::ldexp(1.0f, -24)) << "layer " << l;
    for (int h = 0; h < H; ++h) {
      const AttentionCapture* a = ref->capture().find(l, h);
      std::vector<float> want(static_cast<size_t>(nb) * nb,
                              std::numeric_limits<float>::quiet_NaN());
      for (int q = 0; q < n; ++q)
        for (int k = 0; k <= q; ++k)
          if (attn::visible(q, k, ref->plan()[l].mask)) {
            float& o = want[(q / core::kLongThumbBlock) * nb + k / core::kLongThumbBlock];
            if (std::isnan(o) || a->at(q, k) > o) o = a->at(q, k);
          }
      const std::vector<float>& got = lp.thumbs->maps[l * H + h];
      for (size_t i = 0; i < want.size(); ++i)
        if (std::isnan(want[i]))
          EXPECT_TRUE(std::isnan(got[i])) << l << "," << h << " cell " << i;
        else
          EXPECT_EQ(got[i], want[i]) << l << "," << h << " cell " << i;
    }
  }
}

// Row i of Â = (½·mean_h + ½·e_i) / row sum, in float64, from the heads or from a mean map.
std::vector<double> rollout_row(const std::vector<const AttentionCapture*>& maps, int i) {
  std::vector<double> row(i + 1, 0.0);
  for (const AttentionCapture* a : maps)
    for (int k = 0; k <= i; ++k) row[k] += 0.5 * a->at(i, k) / static_cast<double>(maps.size());
  row[i] += 0.5;
  double s = 0;
  for (double x : row) s += x;
  for (double& x : row) x /= s;
  return row;
}

TEST(LiveCapture, LongRolloutReadsTheMeansWithinTheirRounding) {
  NEED_MODEL(m, "smollm2");
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  const int n = 560, q = n - 1;
  const std::vector<int32_t> ids = test_support::synthetic_ids(*m, n);
  core::LivePassCache cache;
  const core::LivePass lp = cache.run(m, tok, ids, window(0), two_threads(), 0);
  const auto ref = full_pass(m, ids, window(0));
  core::LivePass whole = lp;  // every map: the rollout's short path
  whole.capture = std::make_shared<core::model::Capture>(ref->capture());
  whole.focus_layer = -1;
  const core::model::Config& c = m->config();
  const core::LiveRollout a = core::build_live_rollout(whole, c, q);
  const core::LiveRollout b = core::build_live_rollout(lp, c, q);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  // Products of row-stochastic matrices do not grow an L1 error, so after l layers the
  // rollouts differ by at most the sum over those layers of the largest row L1 distance
  // between the two Â (heads summed in float64 vs the capture's float mean), measured here.
  double bound = 0;
  for (int l = 0; l < c.n_layers; ++l) {
    std::vector<const AttentionCapture*> heads;
    for (int h = 0; h < c.n_heads; ++h) heads.push_back(ref->capture().find(l, h));
    const std::vector<const AttentionCapture*> mean = {lp.capture->find(l, core::kLayerMean)};
    double worst = 0;
    for (int i = 0; i <= q; ++i) {
      const std::vector<double> x = rollout_row(heads, i), y = rollout_row(mean, i);
      double d = 0;
      for (int k = 0; k <= i; ++k) d += std::fabs(x[k] - y[k]);
      worst = std::max(worst, d);
    }
    bound += worst;
    double diff = 0;
    for (int k = 0; k < n; ++k)
      diff += std::fabs(static_cast<double>(a.layers[l].influence[k]) - b.layers[l].influence[k]);
    // + n float roundings of the influences themselves (stored as float, each <= 1).
    EXPECT_LE(diff, bound + n * std::ldexp(1.0, -24)) << "after layer " << l + 1;
  }
}

void expect_same_long(const core::LivePass& a, const core::LivePass& b, const std::string& what) {
  ASSERT_EQ(a.capture->attention.size(), b.capture->attention.size()) << what;
  for (size_t i = 0; i < a.capture->attention.size(); ++i)
    EXPECT_EQ(a.capture->attention[i].p, b.capture->attention[i].p)
        << what << ": map " << a.capture->attention[i].layer << "," << a.capture->attention[i].head;
  ASSERT_EQ(a.thumbs->maps.size(), b.thumbs->maps.size());
  for (size_t i = 0; i < a.thumbs->maps.size(); ++i)
    for (size_t j = 0; j < a.thumbs->maps[i].size(); ++j) {
      const float x = a.thumbs->maps[i][j], y = b.thumbs->maps[i][j];
      EXPECT_TRUE(x == y || (std::isnan(x) && std::isnan(y))) << what << " thumb " << i;
    }
}

TEST(LiveCapture, ResumedLongPassEqualsScratch) {
  NEED_MODEL(m, "smollm2");
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  const std::vector<int32_t> ids = test_support::synthetic_ids(*m, 700);
  const std::vector<int32_t> head(ids.begin(), ids.begin() + 600);
  core::LivePassCache cache;
  cache.run(m, tok, head, window(300), two_threads(), 2);
  // Rows q < min(300, 400) are shared: 256 kept (a chunk and block boundary).
  const core::LivePass w = cache.run(m, tok, head, window(400), two_threads(), 2);
  EXPECT_EQ(w.reused, 256);
  core::LivePassCache fresh;
  expect_same_long(w, fresh.run(m, tok, head, window(400), two_threads(), 2), "window 300->400");
  // 100 tokens appended: the 600 shared positions, cut to 512, are kept.
  const core::LivePass grown = cache.run(m, tok, ids, window(400), two_threads(), 2);
  EXPECT_EQ(grown.reused, 512);
  core::LivePassCache fresh2;
  expect_same_long(grown, fresh2.run(m, tok, ids, window(400), two_threads(), 2), "appended");
  // Another focus layer: nothing of the captured maps can be kept.
  EXPECT_EQ(cache.reusable(m, ids, window(400), 5), 0);
}

// SmolLM2 on a prompt of at least 600 tokens (a long one: over kLiveFullCaptureTokens), its
// pass focused on `focus_layer`.
core::LiveRun long_run(const core::model::Tokenizer& tok, int focus_layer) {
  core::LiveRun run;
  run.model = "smollm2";
  while (tok.encode(run.prompt).size() < 600)
    run.prompt += "The lamp burned steadily through the night, and the keeper wrote it down. ";
  run.focus_layer = focus_layer;
  return run;
}

TEST(LiveCapture, LiveSessionFocusesLongPassesOnTheSceneLayer) {
  NEED_MODEL(m, "smollm2");
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  core::LiveSessionOptions o;
  o.n_threads = 2;
  core::LiveSession live(o);
  core::LiveRun run = long_run(tok, 4);
  live.update(run);
  ASSERT_TRUE(live.wait_idle(600));
  auto r = live.result();
  ASSERT_TRUE(r->pass) << r->error;
  EXPECT_EQ(r->pass->focus_layer, 4);
  EXPECT_TRUE(r->pass->capture->find(4, 0) && !r->pass->capture->find(3, 0));
  EXPECT_TRUE(r->pass->capture->find(29, core::kLayerMean));
  // A window: the pass resumes; the native pass keeps its focus heads, not its means.
  run.variant.window = 300;
  live.update(run);
  ASSERT_TRUE(live.wait_idle(600));
  r = live.result();
  EXPECT_EQ(r->pass->reused, 256);
  EXPECT_TRUE(r->pass->capture->find(0, core::kLayerMean));
  ASSERT_TRUE(r->native);
  EXPECT_TRUE(r->native->capture->find(4, 0));
  EXPECT_FALSE(r->native->capture->find(0, core::kLayerMean));
  // Another layer reruns the pass with that focus (a short prompt would rerun nothing).
  run.focus_layer = 7;
  live.update(run);
  ASSERT_TRUE(live.wait_idle(600));
  r = live.result();
  EXPECT_EQ(r->pass->focus_layer, 7);
  EXPECT_EQ(r->native->focus_layer, 7);
  EXPECT_TRUE(r->pass->capture->find(7, 1));
}

// A long prompt drafts first too: the draft keeps the focus heads and block maxima but no
// layer means (the rollout says it waits for the exact pass), and the exact pass that replaces
// it brings the means and the draft/exact delta of the focus heads.
TEST(LiveCapture, LongPromptDraftsFirstWithoutMeans) {
  NEED_MODEL(m, "smollm2");
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  core::LiveSessionOptions o;
  o.n_threads = 2;
  o.draft_first = core::DraftFirst::Always;
  core::LiveSession live(o);
  core::LiveRun run = long_run(tok, 2);
  live.update(run);
  // The draft stays on screen while the exact pass runs (about a second here): poll for it.
  std::shared_ptr<const core::LiveResult> r;
  for (int i = 0; i < 600000; ++i) {
    r = live.result();
    if (r->pass && (r->pass->draft() || !r->error.empty())) break;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  ASSERT_TRUE(r->pass && r->pass->draft()) << r->error;
  const core::LivePass& d = *r->pass;
  EXPECT_EQ(d.focus_layer, 2);
  EXPECT_TRUE(d.capture->find(2, 0) && !d.capture->find(1, 0));
  EXPECT_FALSE(d.capture->find(0, core::kLayerMean));
  ASSERT_TRUE(d.thumbs);
  const core::Scene scene;
  const fig::ViewData rollout = fig::find_view("live_rollout")->build_data({scene, r.get()});
  EXPECT_FALSE(rollout.data);
  EXPECT_NE(rollout.message.find("exact pass"), std::string::npos) << rollout.message;
  ASSERT_TRUE(live.wait_idle(600));
  r = live.result();
  ASSERT_TRUE(r->pass) << r->error;
  EXPECT_FALSE(r->pass->draft());
  EXPECT_TRUE(r->pass->capture->find(29, core::kLayerMean));
  ASSERT_TRUE(r->draft_delta);
  // The int8 products move the focus heads' probabilities (its bound is test_draft's).
  EXPECT_GT(r->draft_delta->at(2, 0), 0.0f);
  EXPECT_EQ(r->draft_delta->at(1, 0), 0.0f) << "only the focus layer has heads to compare";
  EXPECT_TRUE(fig::find_view("live_rollout")->build_data({scene, r.get()}).data);
}

// A synthetic pass of n tokens, one layer, two heads, a window of w keys including self.
core::LivePass synthetic_pass(int n, int w) {
  core::LivePass p;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.1f, 1.0f);
  auto cap = std::make_shared<core::model::Capture>();
  core::model::LayerPlan lp;
  lp.mask.kind = attn::MaskKind::SlidingWindow;
  lp.mask.window = w;
  p.plan.push_back(lp);
  for (int h = 0; h < 2; ++h) {
    AttentionCapture a{0, h, n, {}};
    for (int q = 0; q < n; ++q) {
      std::vector<float> row(q + 1, 0.0f);
      float s = 0;
      for (int k = 0; k <= q; ++k)
        if (attn::visible(q, k, lp.mask)) s += row[k] = u(rng);
      for (float x : row) a.p.push_back(x / s);
    }
    cap->attention.push_back(std::move(a));
  }
  p.capture = cap;
  p.tokens.assign(n, 1);
  p.labels.assign(n, "t");
  p.kv_heads = 1;
  return p;
}

TEST(LiveCapture, LongMapIsPooledAndHoverReadsExactValues) {
  const int n = 2100, w = 300;
  const core::LivePass p = synthetic_pass(n, w);
  core::model::Config c;
  c.n_layers = 1;
  c.n_heads = 2;
  c.n_kv_heads = 1;
  core::LiveAttentionOptions o;
  o.head = 1;
  const core::LiveAttention a = core::build_live_attention(p, nullptr, c, o);
  ASSERT_EQ(a.block, 3);  // ceil(2100 / 1024)
  ASSERT_EQ(a.cells, 700);
  const AttentionCapture* h1 = p.capture->find(0, 1);
  for (int r = 0; r < a.cells; ++r)
    for (int cc = 0; cc < a.cells; ++cc) {
      float want = std::numeric_limits<float>::quiet_NaN();
      for (int q = r * 3; q < r * 3 + 3; ++q)
        for (int k = cc * 3; k < cc * 3 + 3 && k <= q; ++k)
          if (attn::visible(q, k, p.plan[0].mask) && (std::isnan(want) || h1->at(q, k) > want))
            want = h1->at(q, k);
      const float got = a.values[static_cast<size_t>(r) * a.cells + cc];
      ASSERT_TRUE(got == want || (std::isnan(got) && std::isnan(want))) << r << "," << cc;
    }
  // The figure's heatmap has the pooled cells; the hover names exact positions and values.
  const fig::Figure f =
      fig::figure_live_attention(a, core::Scene{}, core::LiveResult{}, fig::theme_light());
  const fig::Heatmap* hm = fig::find_heatmap(f, fig::kLiveAttentionHeatmapId);
  ASSERT_TRUE(hm);
  EXPECT_EQ(hm->rows, 700);
  const int q = 1500, k = 1401;
  const auto cell =
      fig::heatmap_cell_at(*hm, hm->x + (k + 0.5f) * hm->w / n, hm->y + (q + 0.5f) * hm->h / n);
  ASSERT_TRUE(cell);
  EXPECT_EQ(cell->row, q);
  EXPECT_EQ(cell->col, k);
  EXPECT_EQ(core::live_attention_value(a, q, k), h1->at(q, k));
  EXPECT_TRUE(std::isnan(core::live_attention_value(a, q, q - w)));  // outside the window
  EXPECT_NE(core::describe_live_attention_cell(a, q, k).find("query 1500"), std::string::npos);
}

}  // namespace
