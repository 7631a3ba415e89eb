// Reuse between live passes (core/session/live_reuse.h): a pass that resumes the previous one
// after a window change or a prompt edited at its end must equal a pass from scratch bit for
// bit. Both run the same code in the same order (chunks start at the same positions, the CPU
// attention gathers a row's visible keys in position order), so no tolerance is used. The
// rows a window change leaves alone are checked against brute force over attn::visible.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <string>
#include <vector>

#include "core/attention/spec.h"
#include "core/model/tokenizer_gguf.h"
#include "core/session/live_reuse.h"
#include "core/session/live_session.h"
#include "tests/unit/model_test_support.h"

namespace {

using core::ModelVariant;
using core::model::Capture;

// First row q (below `limit`) at which some key 0..q is hidden: brute force over the rule.
int brute_causal_rows(const attn::MaskSpec& m, int limit) {
  for (int q = 0; q < limit; ++q)
    for (int k = 0; k <= q; ++k)
      if (!attn::visible(q, k, m)) return q;
  return INT_MAX;
}

// First row at which the two plans let some layer see different keys: brute force.
int brute_rows_in_common(const std::vector<core::model::LayerPlan>& a,
                         const std::vector<core::model::LayerPlan>& b, int limit) {
  for (int q = 0; q < limit; ++q)
    for (size_t l = 0; l < a.size(); ++l)
      for (int k = 0; k <= q; ++k)
        if (attn::visible(q, k, a[l].mask) != attn::visible(q, k, b[l].mask)) return q;
  return INT_MAX;
}

TEST(LiveReuse, CausalRowsMatchBruteForce) {
  for (auto conv :
       {attn::WindowConvention::IncludingSelf, attn::WindowConvention::SelfPlusPrevious})
    for (int w = 1; w <= 12; ++w) {
      attn::MaskSpec m;
      m.kind = attn::MaskKind::SlidingWindow;
      m.window = w;
      m.convention = conv;
      EXPECT_EQ(attn::causal_rows(m), brute_causal_rows(m, 64)) << "W=" << w;
    }
  EXPECT_EQ(attn::causal_rows(attn::MaskSpec{}), INT_MAX);
  // W keys including self: rows q < W are plain causal (Gemma's 512: rows 0..511).
  attn::MaskSpec g;
  g.kind = attn::MaskKind::SlidingWindow;
  g.window = 512;
  EXPECT_EQ(attn::causal_rows(g), 512);
}

// A two-layer config, the second layer with a native window (like Gemma's local layers).
core::model::Config toy_config() {
  core::model::Config c;
  c.n_layers = 2;
  c.context_length = 1 << 16;
  c.layers.resize(2);
  c.layers[1].window = 6;
  return c;
}

TEST(LiveReuse, RowsInCommonMatchBruteForce) {
  const core::model::Config c = toy_config();
  std::vector<ModelVariant> vs(1);  // native first
  for (int w : {3, 5, 9})
    for (auto conv :
         {attn::WindowConvention::IncludingSelf, attn::WindowConvention::SelfPlusPrevious}) {
      ModelVariant v;
      v.window = w;
      v.window_convention = conv;
      vs.push_back(v);
      v.window_layers = {0};
      vs.push_back(v);
    }
  for (const ModelVariant& a : vs)
    for (const ModelVariant& b : vs) {
      const auto pa = core::model::plan_layers(c, a), pb = core::model::plan_layers(c, b);
      EXPECT_EQ(core::model::rows_in_common(pa, pb), brute_rows_in_common(pa, pb, 40))
          << "W " << a.window << " -> " << b.window;
    }
}

std::vector<int32_t> prompt_ids(const core::model::Model& m, int n) {
  const core::model::Tokenizer tok = core::model::load_tokenizer(m.gguf());
  std::string text;
  while (static_cast<int>(tok.encode(text).size()) < n)
    text += "The river runs past the mill, and the miller counts the sacks of grain again. ";
  std::vector<int32_t> ids = tok.encode(text);
  ids.resize(n);
  return ids;
}

core::LiveControl two_threads() {
  core::LiveControl ctl;
  ctl.n_threads = 2;
  return ctl;
}

// Every captured probability bit for bit, and the same cache positions.
void expect_same_pass(const core::LivePass& a, const core::LivePass& b, const std::string& what) {
  ASSERT_EQ(a.tokens, b.tokens) << what;
  const Capture &x = *a.capture, &y = *b.capture;
  ASSERT_EQ(x.attention.size(), y.attention.size()) << what;
  size_t differ = 0;
  for (size_t i = 0; i < x.attention.size(); ++i) {
    ASSERT_EQ(x.attention[i].n, y.attention[i].n) << what;
    for (size_t j = 0; j < x.attention[i].p.size(); ++j)
      differ += x.attention[i].p[j] != y.attention[i].p[j];
  }
  EXPECT_EQ(differ, 0u) << what << ": probabilities that differ from the pass from scratch";
  for (size_t l = 0; l < x.cache.size(); ++l) {
    EXPECT_EQ(x.cache[l].slot_pos, y.cache[l].slot_pos) << what << " layer " << l;
    EXPECT_EQ(x.cache[l].k_norm, y.cache[l].k_norm) << what << " layer " << l;
  }
}

ModelVariant window(int w, int chunk) {
  ModelVariant v;
  v.window = w;
  v.chunk = chunk;
  return v;
}

void window_change_equals_scratch(const std::string& name) {
  NEED_MODEL(m, name);
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  const std::vector<int32_t> ids = prompt_ids(*m, 72);
  // Chunks of 8 so the reused rows (q < min(W_old, W_new) = 20, cut to a chunk: 16) are a
  // real share of a short prompt.
  core::LivePassCache cache;
  const core::LivePass before = cache.run(m, tok, ids, window(20, 8), two_threads());
  EXPECT_EQ(before.reused, 0);
  const core::LivePass after = cache.run(m, tok, ids, window(31, 8), two_threads());
  EXPECT_EQ(after.reused, 16);
  expect_same_pass(after, core::run_live_pass(m, tok, ids, window(31, 8), two_threads()),
                   name + " W 20 -> 31");
  // Back down: rows q < 20 are shared again.
  const core::LivePass down = cache.run(m, tok, ids, window(20, 8), two_threads());
  EXPECT_EQ(down.reused, 16);
  expect_same_pass(down, before, name + " W 31 -> 20");
}

TEST(LiveReuse, WindowChangeEqualsScratchSmolLM2) {
  window_change_equals_scratch("smollm2");
}
TEST(LiveReuse, WindowChangeEqualsScratchGemma3) {
  window_change_equals_scratch("gemma3");
}

TEST(LiveReuse, KeepingTooManyRowsIsCaught) {
  // The comparison above can fail: resuming past the shared rows (here 40 > 20) leaves K/V
  // computed under the old window in place and changes the probabilities.
  NEED_MODEL(m, "smollm2");
  const std::vector<int32_t> ids = prompt_ids(*m, 72);
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  core::model::Session s(
      m, core::live_run_options(core::live_pass_variant(window(20, 8)), two_threads(), true, true));
  s.prefill(ids);
  s.truncate(40, core::live_pass_variant(window(31, 8)));
  s.prefill(std::vector<int32_t>(ids.begin() + 40, ids.end()));
  core::LivePass wrong = core::run_live_pass(m, tok, ids, window(31, 8), two_threads());
  size_t differ = 0;
  for (size_t i = 0; i < s.capture().attention.size(); ++i)
    for (size_t j = 0; j < s.capture().attention[i].p.size(); ++j)
      differ += s.capture().attention[i].p[j] != wrong.capture->attention[i].p[j];
  EXPECT_GT(differ, 0u);
}

TEST(LiveReuse, RecycledMapsEqualAPassFromScratch) {
  // A pass from scratch writes into the maps of the pass before it once nothing holds them
  // (MapPool; they are not zeroed): the backend writes every row whole, so the keys a window
  // hides read 0 where the causal pass before had probabilities, bit for bit as a fresh cache.
  NEED_MODEL(m, "smollm2");
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  const std::vector<int32_t> ids = prompt_ids(*m, 72);
  std::vector<int32_t> other = ids;
  other[3] = (ids[3] + 1) % m->config().vocab;  // nothing to resume: a pass from scratch
  for (int chunk : {8, 256}) {                  // chunks of 8 queries and one of the whole prompt
    core::LivePassCache cache;
    cache.run(m, tok, ids, window(0, chunk), two_threads());  // causal; let go of at once
    const core::LivePass recycled = cache.run(m, tok, other, window(6, chunk), two_threads());
    EXPECT_EQ(recycled.reused, 0);
    const core::LivePass fresh =
        core::run_live_pass(m, tok, other, window(6, chunk), two_threads());
    expect_same_pass(recycled, fresh, "pass into recycled maps, chunk " + std::to_string(chunk));
    size_t hidden_nonzero = 0;  // keys q - k >= 6 are hidden under the window
    for (const core::model::AttentionCapture& a : recycled.capture->attention)
      for (int q = 0; q < a.n; ++q)
        for (int k = 0; k + 6 <= q; ++k) hidden_nonzero += a.at(q, k) != 0.0f;
    EXPECT_EQ(hidden_nonzero, 0u) << "chunk " << chunk;
  }
}

TEST(LiveReuse, AttentionOnlyPassesCaptureTheSameAndReturnNoLogits) {
  // RunOptions::attention_only (every live pass) skips the last layer's output projection and
  // FFN and the logits: the captured maps and the caches are those of a full pass, bit for bit.
  NEED_MODEL(m, "smollm2");
  const std::vector<int32_t> ids = prompt_ids(*m, 40);
  core::model::RunOptions o =
      core::live_run_options(core::live_pass_variant(window(12, 8)), two_threads(), true, true);
  core::model::Session full(m, o);
  EXPECT_EQ(full.prefill(ids).size(), static_cast<size_t>(m->config().vocab));
  o.attention_only = true;
  core::model::Session only(m, o);
  EXPECT_TRUE(only.prefill(ids).empty());
  const Capture &a = full.capture(), &b = only.capture();
  ASSERT_EQ(a.attention.size(), b.attention.size());
  for (size_t i = 0; i < a.attention.size(); ++i)
    EXPECT_EQ(a.attention[i].p, b.attention[i].p) << "map " << i;
  for (size_t l = 0; l < a.cache.size(); ++l) {
    EXPECT_EQ(a.cache[l].k_norm, b.cache[l].k_norm) << "layer " << l;
    EXPECT_EQ(a.cache[l].v_norm, b.cache[l].v_norm) << "layer " << l;
  }
}

TEST(LiveReuse, AppendedPromptEqualsScratch) {
  NEED_MODEL(m, "smollm2");
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  const std::vector<int32_t> ids = prompt_ids(*m, 70);
  const std::vector<int32_t> head(ids.begin(), ids.begin() + 43);
  core::LivePassCache cache;
  cache.run(m, tok, head, window(24, 8), two_threads());
  // The 43 shared ids, cut to a chunk of 8: 40 positions kept.
  const core::LivePass grown = cache.run(m, tok, ids, window(24, 8), two_threads());
  EXPECT_EQ(grown.reused, 40);
  expect_same_pass(grown, core::run_live_pass(m, tok, ids, window(24, 8), two_threads()),
                   "appended prompt");
  // An edit at position 19: positions 0..18 are shared, 16 kept.
  std::vector<int32_t> edited = ids;
  edited[19] = (ids[19] + 1) % m->config().vocab;
  const core::LivePass ed = cache.run(m, tok, edited, window(24, 8), two_threads());
  EXPECT_EQ(ed.reused, 16);
  expect_same_pass(ed, core::run_live_pass(m, tok, edited, window(24, 8), two_threads()),
                   "edited prompt");
}

TEST(LiveReuse, AppendedTextReusesItsTokenizedPrefix) {
  // What the live session does with text: the prompt's ids are compared, so appending text
  // keeps the prefix whose ids did not change.
  NEED_MODEL(m, "smollm2");
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  const std::string text(
      "Attention lets every token look back at the tokens before it, and a window limits how "
      "far back it can look; the first tokens of a long prompt are seen by all.");
  const std::vector<int32_t> a = tok.encode(text), b = tok.encode(text + " And then some more");
  const size_t same = std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin();
  core::LivePassCache cache;
  cache.run(m, tok, a, window(0, 8), two_threads());
  EXPECT_EQ(cache.reusable(m, b, window(0, 8)), static_cast<int>(same / 8 * 8));
  const core::LivePass grown = cache.run(m, tok, b, window(0, 8), two_threads());
  expect_same_pass(grown, core::run_live_pass(m, tok, b, window(0, 8), two_threads()),
                   "appended text");
}

TEST(LiveReuse, NothingIsKeptAcrossPoolingOrAModelChange) {
  NEED_MODEL(m, "smollm2");
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  const std::vector<int32_t> ids = prompt_ids(*m, 40);
  core::LivePassCache cache;
  cache.run(m, tok, ids, window(0, 8), two_threads());
  ModelVariant pooled = window(0, 8);
  pooled.kv_heads = 1;
  EXPECT_EQ(cache.reusable(m, ids, pooled), 0);
  EXPECT_EQ(cache.reusable(m, ids, window(0, 16)), 0) << "another chunking sums otherwise";
  ModelVariant sparse = window(0, 8);
  sparse.sparse_local = 4;
  EXPECT_EQ(cache.reusable(m, ids, sparse), 0);
  ModelVariant paged = window(0, 8);  // Session::truncate needs a growing cache
  paged.cache = core::CacheMode::Paged;
  paged.block = 16;
  EXPECT_EQ(cache.reusable(m, ids, paged), 0);
  EXPECT_EQ(cache.reusable(m, ids, window(0, 8)), 32) << "at least one position runs again";
}

TEST(LiveReuse, PrecisionIsPartOfWhatIsKept) {
  // A draft's K/V come from rounded products: a draft never resumes an exact pass, nor the
  // other way round.
  NEED_MODEL(m, "smollm2");
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  const std::vector<int32_t> ids = prompt_ids(*m, 40);
  core::LivePassCache cache;
  cache.run(m, tok, ids, window(20, 8), two_threads());
  const auto draft = core::model::Precision::DraftInt8;
  EXPECT_EQ(cache.reusable(m, ids, window(31, 8), 0, true, draft), 0);
  EXPECT_EQ(cache.reusable(m, ids, window(31, 8)), 16);
  core::LiveControl ctl = two_threads();
  ctl.precision = draft;
  const core::LivePass d = cache.run(m, tok, ids, window(31, 8), ctl);
  EXPECT_EQ(d.reused, 0);
  EXPECT_EQ(d.precision, draft);
  EXPECT_EQ(cache.reusable(m, ids, window(20, 8)), 0) << "the kept session is the draft's now";
  EXPECT_EQ(cache.reusable(m, ids, window(20, 8), 0, true, draft), 16);
}

// The int8 draft packs W's panels once per session: its first pass reports that set-up
// (which a draft/exact pair leaves out of its timing), the next passes of the kept session
// none, and an exact pass never any.
TEST(LiveReuse, OnlyTheFirstDraftOfASessionPaysTheSetUp) {
  NEED_MODEL(m, "smollm2");
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  const std::vector<int32_t> ids = prompt_ids(*m, 40);
  core::LivePassCache exact, draft;
  EXPECT_EQ(exact.run(m, tok, ids, window(20, 8), two_threads()).setup_ms, 0.0);
  core::LiveControl ctl = two_threads();
  ctl.precision = core::model::Precision::DraftInt8;
  const core::LivePass first = draft.run(m, tok, ids, window(20, 8), ctl);
  EXPECT_GT(first.setup_ms, 0.0);
  EXPECT_LE(first.setup_ms, first.ms);
  EXPECT_EQ(draft.run(m, tok, ids, window(31, 8), ctl).setup_ms, 0.0);
  EXPECT_EQ(draft.run(m, tok, prompt_ids(*m, 60), window(31, 8), ctl).setup_ms, 0.0)
      << "a new prompt from scratch keeps the session, hence its packed weights";
}

TEST(LiveReuse, AResumedPassPublishesEveryLayerInOrder) {
  // LiveControl::layer_done reaches a kept session too: every layer once, in order, with the
  // heads the finished pass holds (its last chunk's layers are final when published).
  NEED_MODEL(m, "smollm2");
  const core::model::Tokenizer tok = core::model::load_tokenizer(m->gguf());
  const std::vector<int32_t> ids = prompt_ids(*m, 40);
  core::LivePassCache cache;
  cache.run(m, tok, ids, window(20, 8), two_threads());
  core::LiveControl ctl = two_threads();
  std::vector<int> layers;
  std::vector<std::shared_ptr<const std::vector<core::model::AttentionCapture>>> parts;
  ctl.layer_done = [&](int l, const core::model::Capture&,
                       std::shared_ptr<const std::vector<core::model::AttentionCapture>> h) {
    layers.push_back(l);
    parts.push_back(std::move(h));
  };
  const core::LivePass p = cache.run(m, tok, ids, window(31, 8), ctl);
  ASSERT_EQ(p.reused, 16);
  const int L = m->config().n_layers;
  ASSERT_EQ(static_cast<int>(layers.size()), L);
  for (int l = 0; l < L; ++l) {
    EXPECT_EQ(layers[l], l);
    ASSERT_EQ(static_cast<int>(parts[l]->size()), m->config().n_heads) << "layer " << l;
    for (const core::model::AttentionCapture& a : *parts[l]) {
      const core::model::AttentionCapture* b = p.capture->find(l, a.head);
      ASSERT_TRUE(b);
      EXPECT_EQ(a.p, b->p) << "layer " << l << " head " << a.head;
    }
  }
}

TEST(LiveReuse, LiveSessionKeepsTheNativePassAcrossWindowChanges) {
  NEED_MODEL(m, "smollm2");
  core::LiveSessionOptions o;
  o.n_threads = 2;
  core::LiveSession live(o);
  core::LiveRun run;
  run.model = "smollm2";
  run.prompt = "The quick brown fox jumps over the lazy dog, and the dog sleeps on.";
  live.update(run);
  ASSERT_TRUE(live.wait_idle(300));
  const auto native = live.result()->native;
  ASSERT_TRUE(native);
  for (int w : {4, 6, 5}) {
    run.variant.window = w;
    live.update(run);
    ASSERT_TRUE(live.wait_idle(300));
    EXPECT_EQ(live.result()->native, native) << "W=" << w << " recomputed the native pass";
    EXPECT_EQ(live.result()->pass->variant.window, w);
  }
  run.variant.window = 0;  // back to native: the cached pass, nothing run
  live.update(run);
  ASSERT_TRUE(live.wait_idle(300));
  const auto r = live.result();
  EXPECT_EQ(r->pass->capture, native->capture);
  EXPECT_EQ(r->pass->reused, static_cast<int>(native->tokens.size()));
}

}  // namespace
