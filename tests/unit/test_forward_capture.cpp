// What the forward pass exposes for the views: attention probabilities (checked against an
// attention computed here from the weights), per-slot cache contents (positions against the
// ring layout, K/V norms against projections computed here) and the bytes the cache allocated.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/attention/spec.h"
#include "core/model/forward.h"
#include "core/model/tokenizer_gguf.h"
#include "tests/unit/model_test_support.h"

namespace core::model {
namespace {

std::vector<int32_t> prompt_ids(const Model& m, int n) {
  const Tokenizer tok = load_tokenizer(m.gguf());
  std::vector<int32_t> ids = tok.encode(
      "Rolling caches keep only the last W keys; every other position is evicted, which is "
      "fine when the mask would hide it anyway. Here are some digits: 3 1 4 1 5 9 2 6.",
      true);
  EXPECT_GE(static_cast<int>(ids.size()), n);
  ids.resize(n);
  return ids;
}

// x[d] -> W[out, d] x, in double.
std::vector<double> project(const std::vector<float>& w, const std::vector<double>& x, int out) {
  const size_t d = x.size();
  std::vector<double> y(out, 0.0);
  for (int r = 0; r < out; ++r)
    for (size_t i = 0; i < d; ++i) y[r] += static_cast<double>(w[r * d + i]) * x[i];
  return y;
}

// Layer 0's normalized input for a token: RMSNorm(embedding) * attn_norm, in double.
std::vector<double> layer0_input(const Model& m, int32_t tok) {
  const Config& c = m.config();
  const Weights& w = m.weights();
  std::vector<double> x(c.d_model);
  double ss = 0;
  for (int i = 0; i < c.d_model; ++i) {
    x[i] = w.token_embd[static_cast<size_t>(tok) * c.d_model + i] * double(c.embed_scale);
    ss += x[i] * x[i];
  }
  const double s = 1.0 / std::sqrt(ss / c.d_model + c.rms_eps);
  for (int i = 0; i < c.d_model; ++i) x[i] *= s * w.layers[0].attn_norm[i];
  return x;
}

// llama's RoPE as llama.cpp stores it: adjacent pairs (2i, 2i+1) turn by pos * base^(-2i/hd).
void rope_adjacent(double* v, int hd, int pos, double base) {
  for (int i = 0; i < hd / 2; ++i) {
    const double a = pos * std::pow(base, -2.0 * i / hd);
    const double x0 = v[2 * i], x1 = v[2 * i + 1];
    v[2 * i] = x0 * std::cos(a) - x1 * std::sin(a);
    v[2 * i + 1] = x0 * std::sin(a) + x1 * std::cos(a);
  }
}

double norm(const double* v, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += v[i] * v[i];
  return std::sqrt(s);
}

// Layer 0 of SmolLM2, every head, computed here from the weights: softmax of scaled q.k over
// the keys the window admits. `window` 0 means causal.
TEST(ForwardCapture, Layer0AttentionMatchesReference) {
  NEED_MODEL(m, "smollm2");
  const Config& c = m->config();
  ASSERT_EQ(c.arch, Arch::Llama);
  const int n = 14, hd = c.head_dim, nh = c.n_heads, nkv = c.n_kv_heads;
  const std::vector<int32_t> ids = prompt_ids(*m, n);
  const LayerWeights& l0 = m->weights().layers[0];
  std::vector<std::vector<double>> q(n), k(n);
  for (int t = 0; t < n; ++t) {
    const std::vector<double> x = layer0_input(*m, ids[t]);
    q[t] = project(l0.wq, x, nh * hd);
    k[t] = project(l0.wk, x, nkv * hd);
    for (int h = 0; h < nh; ++h) rope_adjacent(q[t].data() + h * hd, hd, t, c.layers[0].rope_base);
    for (int h = 0; h < nkv; ++h) rope_adjacent(k[t].data() + h * hd, hd, t, c.layers[0].rope_base);
  }
  for (int window : {0, 4}) {
    RunOptions o;
    o.variant.window = window;
    o.variant.cache = window > 0 ? CacheMode::Rolling : CacheMode::Full;
    o.variant.chunk = 3;  // rows come from several calls, the ring evicts between them
    o.capture.layers = {0};
    Session s(m, o);
    s.prefill(ids);
    ASSERT_EQ(s.capture().attention.size(), static_cast<size_t>(nh));
    double worst = 0;
    for (int h = 0; h < nh; ++h) {
      const AttentionCapture* a = s.capture().find(0, h);
      ASSERT_NE(a, nullptr);
      ASSERT_EQ(a->n, n);
      const int kvh = h / (nh / nkv);
      for (int t = 0; t < n; ++t) {
        std::vector<double> p(t + 1, 0.0);
        double mx = -1e300, sum = 0;
        for (int j = 0; j <= t; ++j)
          if (window == 0 || t - j < window) {
            double dot = 0;
            for (int i = 0; i < hd; ++i) dot += q[t][h * hd + i] * k[j][kvh * hd + i];
            p[j] = dot * c.attn_scale;
            mx = std::max(mx, p[j]);
          }
        for (int j = 0; j <= t; ++j)
          if (window == 0 || t - j < window) sum += (p[j] = std::exp(p[j] - mx));
        for (int j = 0; j <= t; ++j) {
          const double want = (window == 0 || t - j < window) ? p[j] / sum : 0.0;
          worst = std::max(worst, std::fabs(want - a->at(t, j)));
        }
      }
    }
    // f32 projections against a double reference: a few ulps of a probability.
    EXPECT_LE(worst, 2e-5) << "window " << window;
  }
}

TEST(ForwardCapture, RowsSumToOneAndDecodeExtendsThem) {
  NEED_MODEL(m, "smollm2");
  RunOptions o;
  o.capture.layers = {0, 29};
  o.capture.heads = {0, 8};
  Session s(m, o);
  s.prefill(prompt_ids(*m, 10));
  s.decode(42);
  s.decode(7);
  ASSERT_EQ(s.capture().attention.size(), 4u);
  for (const AttentionCapture& a : s.capture().attention) {
    ASSERT_EQ(a.n, 12);
    for (int q = 0; q < a.n; ++q) {
      double sum = 0;
      for (int k = 0; k <= q; ++k) {
        EXPECT_GE(a.at(q, k), 0.0f);
        sum += a.at(q, k);
      }
      // Float32 probabilities summed in double: each row is within n * 2^-24 of 1 (n <= 64).
      EXPECT_NEAR(sum, 1.0, 1e-5) << "layer " << a.layer << " head " << a.head << " row " << q;
    }
  }
  EXPECT_EQ(s.capture().n_tokens, 12);
}

TEST(ForwardCapture, AllHeadsStopAtLimitButChosenSubsetGoesBeyond) {
  NEED_MODEL(m, "smollm2");
  const std::vector<int32_t> ids = prompt_ids(*m, 12);
  RunOptions all;
  all.capture.max_positions = 8;  // stands in for 1024 to keep the test short
  Session a(m, all);
  a.prefill(ids);
  ASSERT_EQ(a.capture().attention.size(), static_cast<size_t>(30 * 9));
  for (const AttentionCapture& c : a.capture().attention) ASSERT_EQ(c.n, 8);
  RunOptions subset = all;
  subset.capture.layers = {3};
  subset.capture.heads = {1};
  Session b(m, subset);
  b.prefill(ids);
  ASSERT_EQ(b.capture().attention.size(), 1u);
  EXPECT_EQ(b.capture().attention[0].n, 12);
  // The first 8 rows are the same numbers either way.
  const AttentionCapture* x = a.capture().find(3, 1);
  ASSERT_NE(x, nullptr);
  for (int q = 0; q < 8; ++q)
    for (int k = 0; k <= q; ++k) EXPECT_EQ(x->at(q, k), b.capture().attention[0].at(q, k));
}

// Slot positions follow ring_slot, K/V norms are those of the projections of the token held
// (layer 0: RoPE is a rotation, so |k| does not depend on the position), and bytes are
// slots * kv_heads * head_dim * 4 (f32) * 2 (K and V).
void check_cache(const std::string& what, const Model& m, const Session& s,
                 const std::vector<int32_t>& seq, int kv_heads) {
  const Config& c = m.config();
  const Capture& cap = s.capture();
  const int n = static_cast<int>(seq.size()), hd = c.head_dim;
  ASSERT_EQ(cap.cache.size(), static_cast<size_t>(c.n_layers)) << what;
  size_t total = 0;
  for (int l = 0; l < c.n_layers; ++l) {
    const CacheCapture& cc = cap.cache[l];
    const int ring = s.plan()[l].cache_slots;
    EXPECT_EQ(cc.n_kv_heads, kv_heads);
    EXPECT_EQ(cc.bytes, static_cast<size_t>(cc.n_slots) * kv_heads * hd * sizeof(float) * 2)
        << what << " layer " << l;
    total += cc.bytes;
    ASSERT_EQ(cc.slot_pos.size(), static_cast<size_t>(cc.n_slots));
    if (ring > 0) {
      ASSERT_EQ(cc.n_slots, ring) << what << " layer " << l;
      std::vector<int32_t> want(ring, -1);
      for (int p = std::max(0, n - ring); p < n; ++p) want[attn::ring_slot(p, ring)] = p;
      for (int p = std::max(0, n - ring); p < n; ++p) EXPECT_EQ(p % ring, attn::ring_slot(p, ring));
      EXPECT_EQ(cc.slot_pos, want) << what << " layer " << l;
    } else {
      ASSERT_GE(cc.n_slots, n);
      for (int p = 0; p < cc.n_slots; ++p) EXPECT_EQ(cc.slot_pos[p], p < n ? p : -1);
    }
  }
  EXPECT_EQ(cap.cache_bytes, total) << what;

  const LayerWeights& l0 = m.weights().layers[0];
  const std::vector<float> wk = pool_kv_heads(l0.wk, c.n_kv_heads, kv_heads, hd, c.d_model);
  const std::vector<float> wv = pool_kv_heads(l0.wv, c.n_kv_heads, kv_heads, hd, c.d_model);
  const CacheCapture& cc = cap.cache[0];
  for (int slot = 0; slot < cc.n_slots; ++slot) {
    const int p = cc.slot_pos[slot];
    if (p < 0) {
      for (int h = 0; h < kv_heads; ++h) EXPECT_EQ(cc.k_norm[slot * kv_heads + h], 0.0f);
      continue;
    }
    const std::vector<double> x = layer0_input(m, seq[p]);
    const std::vector<double> k = project(wk, x, kv_heads * hd);
    const std::vector<double> v = project(wv, x, kv_heads * hd);
    for (int h = 0; h < kv_heads; ++h) {
      const double kn = norm(k.data() + h * hd, hd), vn = norm(v.data() + h * hd, hd);
      // Float64 reference of the f32 projection (d_model = 576 products, ~sqrt(576) * 2^-24
      // relative) and of RMSNorm; 1e-4 relative is the golden tests' float32 logit bound.
      EXPECT_NEAR(cc.k_norm[slot * kv_heads + h], kn, 1e-4 * kn) << what << " slot " << slot;
      EXPECT_NEAR(cc.v_norm[slot * kv_heads + h], vn, 1e-4 * vn) << what << " slot " << slot;
    }
  }
}

TEST(ForwardCapture, RollingCacheSlotsNormsAndBytes) {
  NEED_MODEL(m, "smollm2");
  RunOptions o;
  o.capture.attention = false;
  o.variant.window = 8;
  o.variant.cache = CacheMode::Rolling;
  o.variant.chunk = 6;
  Session s(m, o);
  std::vector<int32_t> seq = prompt_ids(*m, 19);
  s.prefill(seq);
  check_cache("rolling after prefill", *m, s, seq, 3);
  for (int32_t t : {11, 12, 13}) {
    s.decode(t);
    seq.push_back(t);
  }
  check_cache("rolling after decode", *m, s, seq, 3);
  EXPECT_EQ(s.capture().cache_bytes, 30u * 8 * 3 * 64 * 4 * 2);
}

TEST(ForwardCapture, FullAndPooledCacheSlotsNormsAndBytes) {
  NEED_MODEL(m, "smollm2");
  const std::vector<int32_t> seq = prompt_ids(*m, 9);
  for (int kv : {3, 1}) {
    RunOptions o;
    o.capture.attention = false;
    o.variant.kv_heads = kv;
    Session s(m, o);
    s.prefill(seq);
    check_cache("full kv " + std::to_string(kv), *m, s, seq, kv);
  }
}

TEST(ForwardCapture, NoCacheKeepsNothingButShowsTheLastPass) {
  NEED_MODEL(m, "smollm2");
  RunOptions o;
  o.capture.attention = false;
  o.variant.cache = CacheMode::None;
  Session s(m, o);
  std::vector<int32_t> seq = prompt_ids(*m, 7);
  s.prefill(seq);
  s.decode(5);
  seq.push_back(5);
  EXPECT_EQ(s.capture().cache_bytes, 0u);
  // The per-layer view is what the recomputation held at the end of the pass.
  const CacheCapture& cc = s.capture().cache[0];
  ASSERT_GE(cc.n_slots, 8);
  for (int p = 0; p < 8; ++p) EXPECT_EQ(cc.slot_pos[p], p);
}

TEST(ForwardCapture, Gemma3RollingRingsOnLocalLayersOnly) {
  NEED_MODEL(m, "gemma3");
  const Config& c = m->config();
  RunOptions o;
  o.capture.attention = false;
  o.capture.cache = false;
  o.variant.cache = CacheMode::Rolling;  // native windows: 512 on local layers
  Session s(m, o);
  s.prefill(prompt_ids(*m, 6));
  size_t total = 0;
  for (int l = 0; l < c.n_layers; ++l) {
    const CacheCapture& cc = s.capture().cache[l];
    const bool global = (l + 1) % 6 == 0;
    EXPECT_EQ(cc.n_slots == 512, !global) << "layer " << l;
    // No slot is allocated before a position can reach it: 6 positions take the growth
    // step's 64 slots on every layer, not the ring's 512.
    EXPECT_EQ(cc.bytes, size_t{64} * 1 * 256 * 4 * 2) << "layer " << l;
    total += cc.bytes;
  }
  EXPECT_EQ(s.capture().cache_bytes, total);
}

}  // namespace
}  // namespace core::model
