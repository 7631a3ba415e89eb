// Invariants of the CPU forward pass on the real models: ways of running the same attention
// must give the same numbers. Each comparison states its tolerance; they are float32 reordering
// bounds (sgemm vs sgemv, keys tiled from the cache vs from the chunk), far below what a wrong
// mask, a wrong slot or a missing key would change (logits move by O(1) then).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
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

// These tests compare two evaluation orders of the same arithmetic through up to 30 layers of
// a narrow window, where rounding differences grow layer by layer. OpenBLAS's AVX-512 sgemm
// (which core/model/blas_setup.cpp switches on for speed) blocks each matrix shape
// differently and adds rounding of its own to what is measured here, so these tests pin
// OpenBLAS to its default kernels before the first model load. The golden tests run with the
// fast kernels.
const int kPinOpenBlas = setenv("ATTNLAB_OPENBLAS_TUNE", "0", 1);

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

// Float32 reordering bounds: logits relative to max|logit| (measured worst 4e-6), and
// probabilities absolute (measured worst 7e-6). The golden tests against transformers allow
// 1e-3 and 1e-4; these are 50x and 5x tighter.
constexpr float kLogitRel = 2e-5f;
constexpr float kProbTol = 2e-5f;

void chunked_equals_one_shot(const std::string& name, int n, int chunk) {
  NEED_MODEL(m, name);
  const std::vector<int32_t> ids = prompt_ids(*m, n);
  ModelVariant one;
  ModelVariant chunked;
  chunked.chunk = chunk;
  Session a(m, options(one));
  Session b(m, options(chunked));
  const std::vector<float> la = a.prefill(ids, true);
  const std::vector<float> lb = b.prefill(ids, true);
  expect_close_rel(la, lb, kLogitRel, name + " all-position logits");
  expect_same_attention(a.capture(), b.capture(), kProbTol, name + " attention");
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
  expect_same_steps(run_steps(a, ids, 8), run_steps(b, ids, 8), kLogitRel, "rolling W=40");
  expect_same_attention(a.capture(), b.capture(), kProbTol, "rolling W=40");
}

// SWA through a ring of W slots equals SWA through a growing cache once N > W, in both
// conventions and with chunked prefill feeding the ring.
void rolling_equals_full_past_window(const std::string& name, ModelVariant v, int n, int steps) {
  NEED_MODEL(m, name);
  const std::vector<int32_t> ids = prompt_ids(*m, n);
  ModelVariant rolling = v;
  rolling.cache = CacheMode::Rolling;
  Session a(m, options(v));
  Session b(m, options(rolling));
  const std::string what =
      name + " W=" + std::to_string(v.window) + " chunk " + std::to_string(v.chunk);
  expect_same_steps(run_steps(a, ids, steps), run_steps(b, ids, steps), kLogitRel, what);
  expect_same_attention(a.capture(), b.capture(), kProbTol, what);
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
  Session a(m, options(full));
  Session b(m, options(none));
  expect_same_steps(run_steps(a, ids, 4), run_steps(b, ids, 4), kLogitRel, "none vs full");
  expect_same_attention(a.capture(), b.capture(), kProbTol, "none vs full");
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
  expect_same_steps(run_steps(a, ids, 3), run_steps(b, ids, 3), 0.0f, "kv-heads native");
}

TEST(ForwardInvariants, KvHeadPoolingAveragesGroups) {
  NEED_MODEL(m, "smollm2");
  const Config& c = m->config();
  const LayerWeights& l0 = m->weights().layers[0];
  const int hd = c.head_dim, d = c.d_model, g = c.n_kv_heads;
  const std::vector<float> p = pool_kv_heads(l0.wv, c.n_kv_heads, 1, hd, d);
  ASSERT_EQ(p.size(), static_cast<size_t>(hd) * d);
  float worst = 0;
  for (int r = 0; r < hd; ++r)
    for (int i = 0; i < d; ++i) {
      double mean = 0;
      for (int h = 0; h < g; ++h) mean += l0.wv[(static_cast<size_t>(h) * hd + r) * d + i];
      worst = std::max(worst, static_cast<float>(std::fabs(mean / g - p[r * d + i])));
    }
  EXPECT_LE(worst, 1e-6f);
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
