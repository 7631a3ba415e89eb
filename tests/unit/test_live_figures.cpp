// Every live view builds a Figure (the export hook) from a synthetic result without a model:
// the large attention map is NaN exactly where attn::visible() is false, the difference mode
// uses the diverging map, the ring shows W slots with the just-written one, the memory chart's
// filled bytes follow the formula, and an empty result gives placeholder figures.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/figure/live_views.h"
#include "core/figure/view_registry.h"

namespace {

using core::model::AttentionCapture;

// n tokens, L layers, H heads, KV heads `kv`; every layer SWA of width w (0 = causal).
core::LivePass make_pass(int n, int L, int H, int kv, int w, uint32_t seed) {
  core::LivePass p;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.1f, 1.0f);
  auto cap = std::make_shared<core::model::Capture>();
  cap->n_tokens = n;
  for (int l = 0; l < L; ++l) {
    core::model::LayerPlan lp;
    lp.mask.kind = w > 0 ? attn::MaskKind::SlidingWindow : attn::MaskKind::Causal;
    lp.mask.window = w;
    p.plan.push_back(lp);
    for (int h = 0; h < H; ++h) {
      AttentionCapture a{l, h, n, {}};
      for (int q = 0; q < n; ++q) {
        std::vector<float> row(q + 1, 0.0f);
        float s = 0;
        for (int k = 0; k <= q; ++k)
          if (attn::visible(q, k, lp.mask)) s += row[k] = u(rng);
        for (float x : row) a.p.push_back(x / s);
      }
      cap->attention.push_back(std::move(a));
    }
  }
  p.capture = cap;
  p.kv_heads = kv;
  p.variant.window = w;
  for (int i = 0; i < n; ++i) {
    p.tokens.push_back(i);
    p.labels.push_back(std::to_string(i) + "t");
  }
  return p;
}

core::model::Config make_config(int L, int H, int kv) {
  core::model::Config c;
  c.name = "synthetic";
  c.n_layers = L;
  c.n_heads = H;
  c.n_kv_heads = kv;
  c.head_dim = 8;
  c.layers.resize(L);
  return c;
}

core::LiveResult make_result() {
  core::LiveResult r;
  r.config = make_config(4, 6, 3);
  r.model_name = "synthetic";
  r.backend = "cpu";
  r.pass = std::make_shared<core::LivePass>(make_pass(20, 4, 6, 3, 5, 1));
  r.native = std::make_shared<core::LivePass>(make_pass(20, 4, 6, 3, 0, 2));
  return r;
}

bool finite_marks(const fig::Figure& f) {
  for (const fig::Mark& m : f.marks)
    if (const auto* r = std::get_if<fig::Rect>(&m))
      if (!std::isfinite(r->x) || !std::isfinite(r->y) || !std::isfinite(r->w)) return false;
  return true;
}

TEST(LiveFigures, AttentionMapIsNanExactlyWhereMasked) {
  const core::LiveResult r = make_result();
  core::Scene s;
  s.layer = 2;
  s.head = 4;
  const fig::Figure f = fig::build_figure(*fig::find_view("live_attention"), fig::ViewInput{s, &r},
                                          fig::theme_dark());
  const fig::Heatmap* h = fig::find_heatmap(f, fig::kLiveAttentionHeatmapId);
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(h->rows, 20);
  EXPECT_EQ(h->masked.r, fig::theme_dark().background.r);
  attn::MaskSpec spec;
  spec.kind = attn::MaskKind::SlidingWindow;
  spec.window = 5;
  const AttentionCapture* a = r.pass->capture->find(2, 4);
  for (int q = 0; q < 20; ++q)
    for (int k = 0; k < 20; ++k) {
      const float v = h->values[q * 20 + k];
      if (attn::visible(q, k, spec)) {
        EXPECT_FLOAT_EQ(v, a->at(q, k));
      } else {
        EXPECT_TRUE(std::isnan(v)) << q << "," << k;
      }
    }
  const fig::Heatmap* th = fig::find_heatmap(f, fig::kLiveThumbsHeatmapId);
  ASSERT_NE(th, nullptr);
  EXPECT_EQ(th->rows, 4 * 21);
  EXPECT_EQ(th->cols, 6 * 21);
  EXPECT_TRUE(finite_marks(f));
}

// Packed prompts: the map is NaN exactly where the block-diagonal mask hides a key, and the
// figure names the xformers mask and prints the packed-vs-separate difference it was given.
TEST(LiveFigures, PackedPassShowsItsMaskAndTheDifference) {
  core::LiveResult r = make_result();
  core::LivePass p = make_pass(20, 4, 6, 3, 0, 3);
  auto ends = std::make_shared<const std::vector<int32_t>>(std::vector<int32_t>{6, 13});
  for (core::model::LayerPlan& lp : p.plan) {
    lp.mask.kind = attn::MaskKind::BlockDiagonal;
    lp.mask.segment_ends = ends->data();
    lp.mask.n_segments = 2;
    lp.segment_ends = ends;
  }
  p.variant.segments = {6, 7, 7};
  r.pass = std::make_shared<core::LivePass>(std::move(p));
  auto packed = std::make_shared<core::LivePacked>();
  packed->segments = {6, 7, 7};
  packed->max_dlogit = 1.25e-5;
  packed->max_logit = 30;
  packed->max_dp = 7.5e-7;
  r.packed = packed;
  const core::Scene s;
  const fig::Figure f = fig::build_figure(*fig::find_view("live_attention"), fig::ViewInput{s, &r},
                                          fig::theme_dark());
  const fig::Heatmap* h = fig::find_heatmap(f, fig::kLiveAttentionHeatmapId);
  ASSERT_NE(h, nullptr);
  for (int q = 0; q < 20; ++q)
    for (int k = 0; k <= q; ++k) {
      const bool same_prompt = (q < 6) == (k < 6) && (q < 13) == (k < 13);
      EXPECT_EQ(std::isnan(h->values[q * 20 + k]), !same_prompt) << q << "," << k;
    }
  std::string text;
  for (const fig::Mark& m : f.marks)
    if (const auto* t = std::get_if<fig::Text>(&m)) text += t->text + "\n";
  EXPECT_NE(text.find("BlockDiagonalCausalMask"), std::string::npos) << text;
  EXPECT_NE(text.find("prompts of 6+7+7 tokens"), std::string::npos) << text;
  EXPECT_NE(text.find("max|dlogit| 1.25e-05"), std::string::npos) << text;
  EXPECT_NE(text.find("max|dp| 7.5e-07"), std::string::npos) << text;
}

TEST(LiveFigures, MeanMaxAndDifference) {
  const core::LiveResult r = make_result();
  core::LiveAttentionOptions o;
  o.layer = 1;
  o.aggregate = core::LiveAggregate::Mean;
  const core::LiveAttention mean =
      core::build_live_attention(*r.pass, r.native.get(), *r.config, o);
  o.aggregate = core::LiveAggregate::Max;
  const core::LiveAttention mx = core::build_live_attention(*r.pass, r.native.get(), *r.config, o);
  for (int q = 0; q < 20; ++q)
    for (int k = 0; k <= q; ++k) {
      float sum = 0, best = 0;
      for (int h = 0; h < 6; ++h) {
        const float p = r.pass->capture->find(1, h)->at(q, k);
        sum += p;
        best = std::max(best, p);
      }
      if (std::isnan(mean.values[q * 20 + k])) continue;
      // Same 6 float32 values summed in another order: <= 6 roundings of p <= 1 (< 1e-6).
      EXPECT_NEAR(mean.values[q * 20 + k], sum / 6, 1e-6);
      EXPECT_FLOAT_EQ(mx.values[q * 20 + k], best);
    }
  o.aggregate = core::LiveAggregate::Head;
  o.difference = true;
  const core::LiveAttention d = core::build_live_attention(*r.pass, r.native.get(), *r.config, o);
  ASSERT_TRUE(d.difference);
  // Hidden by the window but visible natively: shown as the (negative) native probability.
  const float v = d.values[19 * 20 + 0];
  EXPECT_FLOAT_EQ(v, -r.native->capture->find(1, 0)->at(19, 0));
  EXPECT_LT(d.vmin, 0);
  EXPECT_EQ(d.vmin, -d.vmax);
  const fig::Figure f = fig::figure_live_attention(d, core::Scene{}, r, fig::theme_light());
  EXPECT_EQ(fig::find_heatmap(f, fig::kLiveAttentionHeatmapId)->cmap, fig::Colormap::Diverging);
}

TEST(LiveFigures, EveryLiveViewBuildsAndEmptyResultsArePlaceholders) {
  core::LiveResult r = make_result();
  // A generation of 3 steps with a ring of 4 slots.
  auto g = std::make_shared<core::LiveGeneration>();
  g->window = 4;
  g->n_layers = 4;
  g->kv_heads = 3;
  g->head_dim = 8;
  g->layer_slots.assign(4, 4);
  for (int n = 6; n <= 8; ++n) {
    core::GenStep st;
    st.n_tokens = n;
    st.token = n;
    st.label = "g";
    for (int l = 0; l < 4; ++l) {
      core::model::CacheCapture cc;
      cc.layer = l;
      cc.n_slots = 4;
      cc.n_kv_heads = 3;
      for (int s = 0; s < 4; ++s) cc.slot_pos.push_back(-1);
      for (int p = n - 4; p < n; ++p) cc.slot_pos[p % 4] = p;
      cc.k_norm.assign(12, 1.0f);
      cc.v_norm.assign(12, 2.0f);
      st.ring.push_back(cc);
    }
    st.ring_held = static_cast<size_t>(4) * 4 * 3 * 8 * 2 * 4;
    st.full_held = static_cast<size_t>(4) * n * 3 * 8 * 2 * 4;
    g->steps.push_back(st);
  }
  for (int i = 0; i < 8; ++i) g->labels.push_back(std::to_string(i) + "t");
  g->ring_tokens.assign(8, 1);
  g->full_tokens.assign(8, 1);
  r.generation = g;
  const core::LiveRing ring = core::build_live_ring(*g);
  EXPECT_EQ(ring.written_slot, 7 % 4);
  EXPECT_EQ(ring.evicted_pos, 3);
  EXPECT_FALSE(ring.fits);
  const core::LiveMemory mem = core::build_live_memory(r);
  EXPECT_TRUE(mem.theory_matches);
  const core::Scene scene;
  const core::LiveResult none;
  for (const fig::ViewEntry& e : fig::view_entries()) {
    if (!e.live) continue;
    const fig::Figure f = fig::build_figure(e, fig::ViewInput{scene, &r}, fig::theme_dark());
    EXPECT_FALSE(f.marks.empty()) << e.id;
    EXPECT_TRUE(finite_marks(f)) << e.id;
    const fig::Figure empty = fig::build_figure(e, fig::ViewInput{scene, &none}, fig::theme_dark());
    EXPECT_EQ(fig::find_heatmap(empty, fig::kLiveAttentionHeatmapId), nullptr);
  }
}

}  // namespace
