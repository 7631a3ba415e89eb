// Invariants of the CPU forward pass on the real models: ways of running the same attention
// must give the same numbers.
// - Where two runs do the same arithmetic in the same order (a ring cache and a growing cache
//   holding the same keys), they must agree bit for bit.
// - Where they legitimately sum in another order (one-shot vs chunked prefill, recomputing vs
//   caching), the bound is twice the float32 noise floor measured in the same test: the spread
//   between two other valid orders of the same prompt (one-shot and token by token). A wrong
//   mask, slot or missing key moves logits by O(1), far above it.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/model/forward.h"
#include "core/model/tokenizer_gguf.h"
#include "tests/unit/model_test_support.h"

namespace core::model {
namespace {

std::vector<int32_t> prompt_ids(const Model& m, int n) {
  const Tokenizer tok = load_tokenizer(m.gguf());
  std::vector<int32_t> ids = tok.encode(
      "The quick brown fox jumps over the lazy dog. Attention lets every token look back at "
      "earlier tokens, and a sliding window limits how far back it can look. In 1969, 3 "
      "astronauts flew to the Moon and 2 of them walked on it.",
      true);
  EXPECT_GE(static_cast<int>(ids.size()), n);
  ids.resize(n);
  return ids;
}

RunOptions options(const ModelVariant& v, bool capture_attention = true) {
  RunOptions o;
  o.variant = v;
  o.capture.attention = capture_attention;
  return o;
}

float max_abs(const std::vector<float>& v) {
  float m = 0;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

// |a - b| <= rel * max|a| elementwise; reports the worst index.
void expect_close_rel(const std::vector<float>& a, const std::vector<float>& b, float rel,
                      const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  const float tol = rel * max_abs(a);
  size_t worst = 0;
  float wd = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const float d = std::fabs(a[i] - b[i]);
    if (!(d <= wd)) wd = d, worst = i;
  }
  EXPECT_LE(wd, tol) << what << ": worst |diff| " << wd << " at " << worst << " (" << a[worst]
                     << " vs " << b[worst] << "), tolerance " << tol;
}

void expect_same_attention(const Capture& a, const Capture& b, float tol, const std::string& what) {
  ASSERT_EQ(a.attention.size(), b.attention.size()) << what;
  float wd = 0;
  std::string where;
  for (size_t i = 0; i < a.attention.size(); ++i) {
    const AttentionCapture& x = a.attention[i];
    const AttentionCapture& y = b.attention[i];
    ASSERT_EQ(x.layer, y.layer);
    ASSERT_EQ(x.head, y.head);
    ASSERT_EQ(x.n, y.n) << what;
    for (size_t j = 0; j < x.p.size(); ++j) {
      const float d = std::fabs(x.p[j] - y.p[j]);
      if (!(d <= wd))
        wd = d, where = "layer " + std::to_string(x.layer) + " head " + std::to_string(x.head) +
                        " index " + std::to_string(j);
    }
  }
  EXPECT_LE(wd, tol) << what << ": worst |dp| " << wd << " at " << where;
}

// Prefill `ids` then greedily decode `steps` tokens; returns the logits of every call.
std::vector<std::vector<float>> run_steps(Session& s, const std::vector<int32_t>& ids, int steps) {
  std::vector<std::vector<float>> out;
  out.push_back(s.prefill(ids));
  for (int i = 0; i < steps; ++i) {
    const auto& lg = out.back();
    const int32_t next = static_cast<int32_t>(std::max_element(lg.begin(), lg.end()) - lg.begin());
    out.push_back(s.decode(next));
  }
  return out;
}

// Logits of the reference run and the variant, step by step, plus the same greedy tokens.
void expect_same_steps(const std::vector<std::vector<float>>& a,
                       const std::vector<std::vector<float>>& b, float rel,
                       const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    expect_close_rel(a[i], b[i], rel, what + " step " + std::to_string(i));
    EXPECT_EQ(std::max_element(a[i].begin(), a[i].end()) - a[i].begin(),
              std::max_element(b[i].begin(), b[i].end()) - b[i].begin())
        << what << " step " << i;
  }
}

// Largest |a - b| relative to max|a| over logits, and largest |dp| over captured attention.
struct Spread {
  float logit_rel = 0;
  float prob = 0;
};

Spread logit_spread(const std::vector<float>& a, const std::vector<float>& b) {
  float wd = 0;
  for (size_t i = 0; i < a.size(); ++i) wd = std::max(wd, std::fabs(a[i] - b[i]));
  return {wd / max_abs(a), 0};
}

float prob_spread(const Capture& a, const Capture& b) {
  float wd = 0;
  for (size_t i = 0; i < a.attention.size(); ++i)
    for (size_t j = 0; j < a.attention[i].p.size(); ++j)
      wd = std::max(wd, std::fabs(a.attention[i].p[j] - b.attention[i].p[j]));
  return wd;
}

// The float32 noise floor of a model on this machine (its BLAS kernels, its ISA): the spread
// between two valid evaluation orders of the same n-token prompt, one-shot prefill (blocked
// sgemm attention) and token by token (the per-row path, sgemv-shaped projections).
Spread noise_floor(const std::shared_ptr<const Model>& m, const std::string& name, int n) {
  static std::map<std::string, Spread> measured;
  const std::string key = name + "/" + std::to_string(n);
  if (auto it = measured.find(key); it != measured.end()) return it->second;
  const std::vector<int32_t> ids = prompt_ids(*m, n);
  ModelVariant one, by_token;
  by_token.chunk = 1;
  Session a(m, options(one));
  Session b(m, options(by_token));
  const std::vector<float> la = a.prefill(ids, true);
  Spread f = logit_spread(la, b.prefill(ids, true));
  f.prob = prob_spread(a.capture(), b.capture());
  // Two orders that agree exactly would measure nothing; these two never share a kernel.
  EXPECT_GT(f.logit_rel, 0.0f) << key;
  EXPECT_GT(f.prob, 0.0f) << key;
  std::printf("%s noise floor: logits %.3g of max|logit|, |dp| %.3g\n", key.c_str(), f.logit_rel,
              f.prob);
  return measured[key] = f;
}

// Two valid orders each sit within the floor f of exact arithmetic, so they differ by <= 2f.
Spread reorder_bound(const Spread& floor) {
  return {2 * floor.logit_rel, 2 * floor.prob};
}

// Same arithmetic in the same order: every logit and probability bit for bit.
constexpr Spread kBitExact{0.0f, 0.0f};

void chunked_equals_one_shot(const std::string& name, int n, int chunk) {
  NEED_MODEL(m, name);
  const std::vector<int32_t> ids = prompt_ids(*m, n);
  ModelVariant one;
  ModelVariant chunked;
  chunked.chunk = chunk;
  const Spread tol = reorder_bound(noise_floor(m, name, n));
  Session a(m, options(one));
  Session b(m, options(chunked));
  const std::vector<float> la = a.prefill(ids, true);
  const std::vector<float> lb = b.prefill(ids, true);
  expect_close_rel(la, lb, tol.logit_rel, name + " all-position logits");
  expect_same_attention(a.capture(), b.capture(), tol.prob, name + " attention");
  EXPECT_EQ(a.capture().attention.size(),
            static_cast<size_t>(m->config().n_layers) * m->config().n_heads);
}

TEST(ForwardInvariants, ChunkedPrefillEqualsOneShotSmolLM2) {
  chunked_equals_one_shot("smollm2", 32, 7);
}

TEST(ForwardInvariants, ChunkedPrefillEqualsOneShotGemma3) {
  chunked_equals_one_shot("gemma3", 24, 5);
}

TEST(ForwardInvariants, RollingEqualsFullWhileWithinWindow) {
  NEED_MODEL(m, "smollm2");
  const std::vector<int32_t> ids = prompt_ids(*m, 24);
  ModelVariant full;
  full.window = 40;  // 24 + 8 decoded tokens stay inside the window
  ModelVariant rolling = full;
  rolling.cache = CacheMode::Rolling;
  Session a(m, options(full));
  Session b(m, options(rolling));
  expect_same_steps(run_steps(a, ids, 8), run_steps(b, ids, 8), kBitExact.logit_rel,
                    "rolling W=40");
  expect_same_attention(a.capture(), b.capture(), kBitExact.prob, "rolling W=40");
}

// SWA through a ring of W slots equals SWA through a growing cache once N > W, in both
// conventions and with chunked prefill feeding the ring: the attention visits the same keys
// in position order either way, so the two agree bit for bit.
void rolling_equals_full_past_window(const std::string& name, ModelVariant v, int n, int steps) {
  NEED_MODEL(m, name);
  const std::vector<int32_t> ids = prompt_ids(*m, n);
  ModelVariant rolling = v;
  rolling.cache = CacheMode::Rolling;
  Session a(m, options(v));
  Session b(m, options(rolling));
  const std::string what =
      name + " W=" + std::to_string(v.window) + " chunk " + std::to_string(v.chunk);
  expect_same_steps(run_steps(a, ids, steps), run_steps(b, ids, steps), kBitExact.logit_rel, what);
  expect_same_attention(a.capture(), b.capture(), kBitExact.prob, what);
  // The ring really is W slots on the windowed layers, so this compared a real eviction.
  for (size_t l = 0; l < b.plan().size(); ++l)
    if (b.plan()[l].mask.window == v.window) {
      EXPECT_EQ(b.capture().cache[l].n_slots, b.plan()[l].mask.window) << "layer " << l;
      EXPECT_GT(n + steps, b.capture().cache[l].n_slots);
    }
}

TEST(ForwardInvariants, RollingEqualsFullPastWindowIncludingSelf) {
  ModelVariant v;
  v.window = 8;
  rolling_equals_full_past_window("smollm2", v, 24, 4);
}

TEST(ForwardInvariants, RollingEqualsFullPastWindowSelfPlusPreviousChunked) {
  ModelVariant v;
  v.window = 6;
  v.window_convention = attn::WindowConvention::SelfPlusPrevious;
  v.chunk = 5;
  rolling_equals_full_past_window("smollm2", v, 24, 4);
}

TEST(ForwardInvariants, RollingEqualsFullPastWindowGemma3LocalLayersOnly) {
  // Windows on Gemma's local layers 0-4 only; layer 5 stays global and its cache grows.
  ModelVariant v;
  v.window = 8;
  v.window_layers = {0, 1, 2, 3, 4};
  v.chunk = 10;
  rolling_equals_full_past_window("gemma3", v, 24, 4);
}

TEST(ForwardInvariants, NoCacheEqualsFullCache) {
  NEED_MODEL(m, "smollm2");
  const std::vector<int32_t> ids = prompt_ids(*m, 24);
  ModelVariant full;
  ModelVariant none;
  none.cache = CacheMode::None;
  // Without a cache every step re-runs the whole prefix one-shot; with one it runs one row.
  const Spread tol = reorder_bound(noise_floor(m, "smollm2", 24));
  Session a(m, options(full));
  Session b(m, options(none));
  expect_same_steps(run_steps(a, ids, 4), run_steps(b, ids, 4), tol.logit_rel, "none vs full");
  expect_same_attention(a.capture(), b.capture(), tol.prob, "none vs full");
  EXPECT_EQ(b.capture().cache_bytes, 0u);  // nothing is kept between steps
  EXPECT_GT(a.capture().cache_bytes, 0u);
  EXPECT_EQ(a.tokens(), b.tokens());
}

TEST(ForwardInvariants, KvHeadsAtNativeCountEqualsNative) {
  NEED_MODEL(m, "smollm2");
  const Config& c = m->config();
  // Pooling with groups of one is the identity on the weights...
  const LayerWeights& l0 = m->weights().layers[0];
  EXPECT_EQ(pool_kv_heads(l0.wk, c.n_kv_heads, c.n_kv_heads, c.head_dim, c.d_model), l0.wk);
  // ...and asking for the native count runs exactly the native model.
  const std::vector<int32_t> ids = prompt_ids(*m, 24);
  ModelVariant native;
  ModelVariant same;
  same.kv_heads = c.n_kv_heads;
  Session a(m, options(native));
  Session b(m, options(same));
  expect_same_steps(run_steps(a, ids, 3), run_steps(b, ids, 3), kBitExact.logit_rel,
                    "kv-heads native");
}

TEST(ForwardInvariants, KvHeadPoolingAveragesGroups) {
  NEED_MODEL(m, "smollm2");
  const Config& c = m->config();
  const LayerWeights& l0 = m->weights().layers[0];
  const int hd = c.head_dim, d = c.d_model, g = c.n_kv_heads;
  const std::vector<float> p = pool_kv_heads(l0.wv, c.n_kv_heads, 1, hd, d);
  ASSERT_EQ(p.size(), static_cast<size_t>(hd) * d);
  // Against a float64 mean: g-1 float32 additions and one division round by at most
  // g * FLT_EPSILON / 2 of the mean absolute weight; the bound below allows twice that.
  double worst = 0;
  for (int r = 0; r < hd; ++r)
    for (int i = 0; i < d; ++i) {
      double mean = 0, mean_abs = 0;
      for (int h = 0; h < g; ++h) {
        const float w = l0.wv[(static_cast<size_t>(h) * hd + r) * d + i];
        mean += w;
        mean_abs += std::fabs(w);
      }
      if (mean_abs > 0)
        worst = std::max(worst, std::fabs(mean / g - p[r * d + i]) / (mean_abs / g));
    }
  EXPECT_LE(worst, g * FLT_EPSILON);
  // A pooled session runs and really holds one KV head per slot.
  ModelVariant v;
  v.kv_heads = 1;
  RunOptions o = options(v, false);
  Session s(m, o);
  const std::vector<float> lg = s.prefill(prompt_ids(*m, 16));
  for (float x : lg) ASSERT_TRUE(std::isfinite(x));
  EXPECT_EQ(s.capture().cache[0].n_kv_heads, 1);
  EXPECT_EQ(s.kv_heads(), 1);
}

}  // namespace
}  // namespace core::model
