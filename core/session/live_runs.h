// The pieces of work the live session runs on its worker thread, as plain functions so the
// CLI (live-bench) and the tests call exactly the same code.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/model/forward.h"
#include "core/model/tokenizer.h"
#include "core/session/live_result.h"
#include "core/session/map_pool.h"

namespace core {

// Polled for cancellation; reports layer passes done / total.
struct LiveControl {
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(int done, int total)> progress;
  int n_threads = 0;
  model::Precision precision = model::Precision::Exact;  // the pass's products (draft: bf16)
  // Passes with attention: called after each layer, in layer order (a chunked pass: during its
  // last chunk, when the layer's rows are all final), with the session's capture (valid during
  // the call only: read the layer's heads there) and a copy of the layer's heads to keep, made
  // for kept_layer only (every layer if kept_layer < 0; null for the others). Copying every
  // layer would write the maps twice, 142 MB at N = 512 (SmolLM2).
  std::function<void(int layer, const model::Capture& cap,
                     std::shared_ptr<const std::vector<model::AttentionCapture>> kept)>
      layer_done;
  int kept_layer = -1;
};

// Turns ctl.layer_done into RunOptions::layer_done: copies the heads of ctl.kept_layer out of
// the capture, into buffers from `pool` (null: new ones) that return there when dropped.
std::function<void(int, const model::Capture&)> live_layer_copier(
    const LiveControl& ctl, std::shared_ptr<MapPool> pool = nullptr);

// Run options of the live session's passes: attention captured (or not, then no layer_done),
// cache norms (or not), ctl's precision; the layer copies' buffers from `pool`.
model::RunOptions live_run_options(const ModelVariant& v, const LiveControl& ctl, bool attention,
                                   bool cache_norms, std::shared_ptr<MapPool> pool = nullptr);

// Whether the variant changes anything about the native model's attention.
bool is_native(const ModelVariant& v, const model::Config& c);

// The part of a pass's setting the perplexity stage scores: pooled K/V heads and the sparse
// pattern (windows, chunking and the cache mode are left native).
ModelVariant perplexity_setting(const ModelVariant& v, int kv_heads);

// Prefills the tokens with every layer's and head's attention captured, from scratch (the live
// session resumes its last pass instead: LivePassCache). Throws Cancelled.
LivePass run_live_pass(const std::shared_ptr<const model::Model>& m, const model::Tokenizer& tok,
                       const std::vector<int32_t>& tokens, const ModelVariant& v,
                       const LiveControl& ctl);

// exp(mean negative log-likelihood of tokens[1..] given the previous ones).
double live_perplexity(const std::shared_ptr<const model::Model>& m,
                       const std::vector<int32_t>& tokens, const ModelVariant& v,
                       const LiveControl& ctl);

// Greedy decode of `steps` tokens after the prompt with CacheMode::Full and with None.
LiveSpeed measure_decode_speed(const std::shared_ptr<const model::Model>& m,
                               const std::vector<int32_t>& prompt, int steps,
                               const LiveControl& ctl);

// The ring generation's window: the variant's override, else `fallback` (the scene's W).
int ring_generation_window(const ModelVariant& v, int fallback);

// Steps greedy generation with a rolling cache and a full cache side by side. A sparse
// pattern is left out (a ring would evict its global keys); a paged cache is kept by the
// full-cache run, so its block tables are recorded step by step.
class RingGenerator {
 public:
  // Prefills the prompt in both sessions (step 0). Throws Cancelled / std::invalid_argument.
  RingGenerator(std::shared_ptr<const model::Model> m, const model::Tokenizer& tok,
                const std::vector<int32_t>& prompt, ModelVariant v, int window,
                const LiveControl& ctl);
  void step(const LiveControl& ctl);  // one token in both sessions
  const LiveGeneration& state() const { return gen_; }

 private:
  void record(int32_t token, int32_t full_token);
  const model::Tokenizer& tok_;
  std::unique_ptr<model::Session> ring_, full_;
  std::vector<float> ring_logits_, full_logits_;
  LiveGeneration gen_;
};

// Token text for labels: whitespace made visible in glyphs the UI font has (· \\n \\t).
std::string ui_token_label(const model::Tokenizer& tok, int32_t id);

// Bytes of the slots of a capture that hold a position.
size_t cache_held_bytes(const model::Capture& cap, int head_dim);

// The blocks of a paged capture's block tables, summed over layers (block 0: not paged).
PagedUsage paged_usage(const model::Capture& cap, int head_dim);

// Reads the perplexity text (assets/texts/ppl.txt unless ATTNLAB_ASSETS overrides the folder).
std::string default_ppl_text_path();

}  // namespace core
