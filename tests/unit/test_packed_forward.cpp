// Packed prompts on the real models (ModelVariant::segments, issue 10 part 6): several prompts
// packed into one sequence under spec.h's BlockDiagonal mask, with RoPE positions restarting
// per prompt, must compute what each prompt computes alone.
// - Packed equals separate: every segment's logits (all positions) and attention in the
//   packed pass against a pass of that segment alone. The two sum in different orders (one
//   matrix call over all prompts, masked keys in the score rows), so the bound is twice the
//   float32 noise floor measured in the same test, as in test_forward_invariants: the spread
//   between two other valid orders of the same segments (one-shot and token by token). A
//   key leaking across prompts moves logits by O(1). RoPE scores depend on q-k only, so
//   positions that failed to restart would change the logits by rounding alone: the
//   positions themselves are checked (Capture::rope_positions).
// - The mask really blocks: every captured probability from one prompt to another is 0
//   exactly (masked keys get no weight at all), and each row sums to 1 inside its prompt.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/model/tokenizer_gguf.h"
#include "tests/unit/model_test_support.h"

namespace core::model {
namespace {

using test_support::capture_options;

// Three prompts of different lengths, each tokenized on its own (BOS where the model adds it).
std::vector<std::vector<int32_t>> three_prompts(const Model& m) {
  const Tokenizer tok = load_tokenizer(m.gguf());
  std::vector<std::vector<int32_t>> p;
  for (const char* text :
       {"The quick brown fox jumps over the lazy dog.",
        "In 1969, 3 astronauts flew to the Moon and 2 of them walked on it, while the third "
        "stayed in orbit.",
        "Attention lets every token look back at earlier tokens."})
    p.push_back(tok.encode(text, true));
  return p;
}

struct Packed {
  std::vector<int32_t> ids;  // every prompt, in order
  std::vector<int> lengths;  // [prompts]
};

Packed pack(const std::vector<std::vector<int32_t>>& prompts) {
  Packed p;
  for (const auto& q : prompts) {
    p.ids.insert(p.ids.end(), q.begin(), q.end());
    p.lengths.push_back(static_cast<int>(q.size()));
  }
  return p;
}

// Largest |a - b| of logits, and of captured probabilities.
struct Spread {
  float logit = 0;
  float prob = 0;
};

Spread spread_logits(const float* a, const float* b, size_t count) {
  Spread s;
  for (size_t i = 0; i < count; ++i) s.logit = std::max(s.logit, std::fabs(a[i] - b[i]));
  return s;
}

// Over rows and keys 0..n-1 of `alone`, where the packed rows and keys start at `offset`.
float spread_attention(const Capture& packed, int offset, const Capture& alone, int n) {
  float w = 0;
  for (size_t i = 0; i < alone.attention.size(); ++i) {
    const AttentionCapture& a = packed.attention[i];
    const AttentionCapture& b = alone.attention[i];
    for (int q = 0; q < n; ++q)
      for (int k = 0; k <= q; ++k)
        w = std::max(w, std::fabs(a.at(offset + q, offset + k) - b.at(q, k)));
  }
  return w;
}

// Each prompt alone, one-shot against token by token: the floor of two valid orders.
Spread noise_floor(const std::shared_ptr<const Model>& m, const ModelVariant& v,
                   const std::vector<std::vector<int32_t>>& prompts) {
  Spread f;
  for (const auto& p : prompts) {
    ModelVariant by_token = v;
    by_token.chunk = 1;
    Session a(m, capture_options(v));
    Session b(m, capture_options(by_token));
    const std::vector<float> la = a.prefill(p, true), lb = b.prefill(p, true);
    f.logit = std::max(f.logit, spread_logits(la.data(), lb.data(), la.size()).logit);
    f.prob =
        std::max(f.prob, spread_attention(a.capture(), 0, b.capture(), static_cast<int>(p.size())));
  }
  return f;
}

// Packed against separate for every prompt, bounded by twice the floor; prints both.
void packed_equals_separate(const std::string& name, const ModelVariant& base) {
  NEED_MODEL(m, name);
  const std::vector<std::vector<int32_t>> prompts = three_prompts(*m);
  const Packed p = pack(prompts);
  ModelVariant packed_v = base;
  packed_v.segments = p.lengths;
  Session packed(m, capture_options(packed_v));
  const std::vector<float> all = packed.prefill(p.ids, true);
  const int vocab = m->config().vocab;
  Spread got;
  float max_logit = 0;
  int offset = 0;
  for (const auto& q : prompts) {
    Session alone(m, capture_options(base));
    const std::vector<float> l = alone.prefill(q, true);
    for (float x : l) max_logit = std::max(max_logit, std::fabs(x));
    got.logit = std::max(
        got.logit,
        spread_logits(all.data() + static_cast<size_t>(offset) * vocab, l.data(), l.size()).logit);
    got.prob = std::max(got.prob, spread_attention(packed.capture(), offset, alone.capture(),
                                                   static_cast<int>(q.size())));
    offset += static_cast<int>(q.size());
  }
  const Spread floor = noise_floor(m, base, prompts);
  // Two orders that agree exactly would measure nothing; these two never share a kernel.
  ASSERT_GT(floor.logit, 0.0f) << name;
  std::printf(
      "%s packed %zu prompts (%d+%d+%d tokens): max|dlogit| %.3g (floor %.3g, max|logit| %.3g), "
      "max|dp| %.3g (floor %.3g)\n",
      name.c_str(), prompts.size(), p.lengths[0], p.lengths[1], p.lengths[2], got.logit,
      floor.logit, max_logit, got.prob, floor.prob);
  // Two valid orders each sit within the floor f of exact arithmetic, so they differ by <= 2f.
  EXPECT_LE(got.logit, 2 * floor.logit) << name << ": packed vs separate logits";
  EXPECT_LE(got.prob, 2 * floor.prob) << name << ": packed vs separate attention";
}

TEST(PackedForward, PackedEqualsSeparateSmolLM2) {
  packed_equals_separate("smollm2", {});
}

// Gemma 3: its local layers' 512-token window and global layers, q/k norms, two RoPE bases.
TEST(PackedForward, PackedEqualsSeparateGemma3) {
  packed_equals_separate("gemma3", {});
}

// A window override of 5 keys applies inside each prompt, as in the prompt alone.
TEST(PackedForward, PackedEqualsSeparateWithAWindow) {
  ModelVariant w;
  w.window = 5;
  packed_equals_separate("smollm2", w);
}

TEST(PackedForward, NoProbabilityCrossesAPrompt) {
  NEED_MODEL(m, "smollm2");
  const Packed p = pack(three_prompts(*m));
  ModelVariant v;
  v.segments = p.lengths;
  Session s(m, capture_options(v));
  s.prefill(p.ids);
  std::vector<int> start = {0};
  for (int len : p.lengths) start.push_back(start.back() + len);
  const int n = static_cast<int>(p.ids.size());
  int64_t crossing = 0;
  for (const AttentionCapture& a : s.capture().attention) {
    int seg = 0;
    for (int q = 0; q < n; ++q) {
      while (q >= start[seg + 1]) ++seg;
      double inside = 0;
      for (int k = 0; k <= q; ++k) {
        if (k < start[seg]) {
          ASSERT_EQ(a.at(q, k), 0.0f)
              << "layer " << a.layer << " head " << a.head << " q=" << q << " k=" << k;
          ++crossing;
        } else {
          inside += a.at(q, k);
        }
      }
      // A sum of at most 60 fp32 probabilities normalised by one fp32 reciprocal.
      EXPECT_NEAR(inside, 1.0, 1e-5) << "layer " << a.layer << " q=" << q;
    }
  }
  EXPECT_GT(crossing, 0);
}

// Chunks that straddle prompt boundaries, a paged cache, no cache and a decode step that
// continues the last prompt: each against the one-shot packed pass or the last prompt alone,
// within 2x the floor (the same policy as above).
TEST(PackedForward, ChunksPagesAndDecodeKeepPromptsApart) {
  NEED_MODEL(m, "smollm2");
  const std::vector<std::vector<int32_t>> prompts = three_prompts(*m);
  const Packed p = pack(prompts);
  const Spread floor = noise_floor(m, {}, prompts);
  ASSERT_GT(floor.logit, 0.0f);
  ModelVariant one;
  one.segments = p.lengths;
  ModelVariant chunked = one, paged = one, none = one;
  none.cache = CacheMode::None;
  chunked.chunk = 7;
  paged.cache = CacheMode::Paged;
  paged.block = 4;
  Session a(m, capture_options(one));
  const std::vector<float> la = a.prefill(p.ids, true);
  for (const ModelVariant& v : {chunked, paged, none}) {
    Session b(m, capture_options(v));
    const std::vector<float> lb = b.prefill(p.ids, true);
    ASSERT_EQ(la.size(), lb.size());
    EXPECT_LE(spread_logits(la.data(), lb.data(), la.size()).logit, 2 * floor.logit)
        << "chunk " << v.chunk << " cache " << cache_mode_name(v.cache);
  }
  // A ring of W slots against a growing cache, both packed with chunks across prompt
  // boundaries: the attention visits the same keys in position order, so bit for bit.
  ModelVariant windowed = one;
  windowed.window = 6;
  windowed.chunk = 5;
  ModelVariant ring = windowed;
  ring.cache = CacheMode::Rolling;
  Session full_w(m, capture_options(windowed)), ring_w(m, capture_options(ring));
  EXPECT_EQ(full_w.prefill(p.ids, true), ring_w.prefill(p.ids, true)) << "rolling, packed";
  // Each token ran at its position inside its prompt.
  std::vector<int32_t> want;
  for (int len : p.lengths)
    for (int i = 0; i < len; ++i) want.push_back(i);
  EXPECT_EQ(a.capture().rope_positions, want);
  // The decode step's token belongs to the last prompt: it equals that prompt alone + token.
  const int32_t next = 42;
  const std::vector<float> packed_next = a.decode(next);
  want.push_back(p.lengths.back());
  EXPECT_EQ(a.capture().rope_positions, want) << "decode continues the last prompt";
  Session last(m, capture_options({}));
  last.prefill(prompts.back());
  const std::vector<float> alone_next = last.decode(next);
  EXPECT_LE(spread_logits(packed_next.data(), alone_next.data(), alone_next.size()).logit,
            2 * floor.logit);
}

TEST(PackedForward, PlanIsBlockDiagonalKeepingEachLayersWindow) {
  NEED_MODEL(m, "gemma3");
  ModelVariant v;
  v.segments = {3, 4, 5};
  const std::vector<LayerPlan> plan = plan_layers(m->config(), v);
  for (size_t l = 0; l < plan.size(); ++l) {
    EXPECT_EQ(plan[l].mask.kind, attn::MaskKind::BlockDiagonal) << l;
    EXPECT_EQ(plan[l].mask.window, m->config().layers[l].window) << l;
    // The last prompt stays open: ends of the first two only.
    ASSERT_EQ(plan[l].mask.n_segments, 2);
    EXPECT_EQ(plan[l].mask.segment_ends[0], 3);
    EXPECT_EQ(plan[l].mask.segment_ends[1], 7);
  }
  v.sparse_local = 4;
  EXPECT_THROW(Session(m, capture_options(v)), std::invalid_argument);
}

}  // namespace
}  // namespace core::model
