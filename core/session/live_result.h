// What the live session publishes: one immutable snapshot per finished piece of work. The UI
// polls LiveSession::result() each frame and draws from it without further locking; big
// captures are shared between snapshots through shared_ptr<const ...>.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/model/config.h"
#include "core/model/forward.h"
#include "core/scene/scene.h"

namespace core {

// Small multiples of every (layer, head), computed on the worker so the UI never pays for
// them: [n_layers*n_heads][thumb*thumb], each cell the max over the block of positions it
// covers (difference: the value of largest magnitude of this setting minus native), NaN when
// every cell of the block is masked.
struct AttentionThumbs {
  int thumb = 0;
  bool difference = false;
  float vmin = 0, vmax = 1;
  std::vector<std::vector<float>> maps;
};

inline constexpr int kLiveThumbCells = 32;

// Why a pass ran a draft first or not (core/session/live_draft.h).
struct DraftChoice {
  enum class Why {
    Off,        // drafts forced off (DraftFirst::Never)
    Forced,     // drafts forced on (DraftFirst::Always)
    Measuring,  // no draft/exact pair timed yet for this model: this pass times one
    Pays,       // the last pair: draft <= kDraftPaysRatio x exact
    Skipped,    // the last pair: the draft is not clearly faster
  };
  Why why = Why::Off;
  double ratio = 0;  // draft ms / exact ms of the last timed pair; 0 = none yet
  bool draft() const { return why == Why::Forced || why == Why::Measuring || why == Why::Pays; }
  bool operator==(const DraftChoice&) const = default;
};

// One forward pass of the prompt, with every layer's and head's probabilities.
struct LivePass {
  std::vector<int32_t> tokens;         // [n] prompt ids (BOS included when the model adds it)
  std::vector<std::string> labels;     // [n] token text with visible whitespace
  ModelVariant variant;                // the setting this pass ran with
  std::vector<model::LayerPlan> plan;  // [n_layers] effective mask per layer
  int kv_heads = 0;                    // K/V heads after pooling
  std::shared_ptr<const model::Capture> capture;  // attention [n_layers*n_heads] + cache
  double ms = 0;                                  // wall time of the pass
  // Of ms: the one-time set-up a session's first draft pays (packing the int8 weights,
  // model::Session::setup_ms), which a draft/exact pair leaves out of its timing.
  double setup_ms = 0;
  int reused = 0;  // positions kept from the previous pass (core/session/live_reuse.h)
  // -1: capture holds every (layer, head). Else a long prompt (core/session/live_capture.h):
  // capture holds this layer's heads and every layer's mean (head kLayerMean), and thumbs
  // are block maxima.
  int focus_layer = -1;
  bool truncated = false;                         // prompt cut to LiveSessionOptions::max_tokens
  std::shared_ptr<const AttentionThumbs> thumbs;  // of this pass alone
  // Draft: the products ran with int8 blocks or bf16-rounded operands (qgemm_int8.h,
  // qgemm_bf16.h) while a slider moved; the exact pass replaces it when the slider rests.
  model::Precision precision = model::Precision::Exact;
  DraftChoice draft_choice;  // why this pass is a draft, or an exact one without a draft
  // Layers whose probabilities are final: all of them once the pass finished. A pass still
  // running (LiveResult::partial) has no `capture` yet; it holds each finished layer's heads
  // as one shared piece, so a publication copies only the newest layer. [layers_done]
  int layers_done = 0;
  std::vector<std::shared_ptr<const std::vector<model::AttentionCapture>>> layer_parts;
  bool draft() const { return precision != model::Precision::Exact; }
  bool has_attention() const { return capture || !layer_parts.empty(); }
  // The probabilities of (layer, head) from the capture or the finished layers; null if none.
  const model::AttentionCapture* find(int layer, int head) const {
    if (capture) return capture->find(layer, head);
    if (layer < 0 || layer >= static_cast<int>(layer_parts.size()) || !layer_parts[layer])
      return nullptr;
    for (const model::AttentionCapture& a : *layer_parts[layer])
      if (a.head == head) return &a;
    return nullptr;
  }
};

// How far the draft pass was from the exact pass that replaced it: max |Δp| over every
// probability of each (layer, head). [n_layers * n_heads]
struct DraftDelta {
  int n_layers = 0, n_heads = 0;
  std::vector<float> max_dp;
  float overall = 0;  // max over all of them
  float at(int layer, int head) const {
    return max_dp[static_cast<size_t>(layer) * n_heads + head];
  }
};

// A paged cache's blocks over all layers, read from the runtime's block tables.
struct PagedUsage {
  int block = 0;              // B, tokens per block; 0 = the cache is not paged
  int64_t blocks_in_use = 0;  // physical blocks the sequence holds, summed over layers
  int64_t pool_blocks = 0;    // physical blocks in the pools (free-listed ones included)
  int64_t tokens = 0;         // filled slots of the held blocks
  int64_t block_bytes = 0;    // one block of one layer: B x kv_heads x head_dim x 2 (K, V) x 4
  int64_t empty_slots() const { return blocks_in_use * block - tokens; }
};

// One generated token of the ring generation (step 0 is the prefilled prompt).
struct GenStep {
  int n_tokens = 0;         // tokens in the sequence after this step
  int32_t token = -1;       // the token this step appended (-1 for step 0)
  std::string label;        // its text
  int32_t full_token = -1;  // what the full-cache run appended at the same step
  std::string full_label;
  std::vector<model::CacheCapture> ring;  // [n_layers] rolling cache after the step
  size_t ring_bytes = 0;                  // bytes the rolling cache allocated
  size_t ring_held = 0;                   // bytes of the slots that hold a position
  size_t full_bytes = 0;                  // bytes the full cache allocated
  size_t full_held = 0;                   // bytes of the full cache's filled slots
  PagedUsage full_paged;  // the full-cache run's blocks when the setting's cache is paged
};

// Greedy generation with a rolling cache of W slots next to the same generation with a full
// cache, so the view can say whether the texts agree.
struct LiveGeneration {
  int window = 0;  // W: ring slots of the windowed layers
  attn::WindowConvention convention = attn::WindowConvention::IncludingSelf;
  int ring_layer = 0;  // a windowed layer (the ring the view shows)
  int n_layers = 0, kv_heads = 0, head_dim = 0;
  std::vector<int> layer_slots;      // [n_layers] ring slots per layer, 0 = grows
  std::vector<int32_t> ring_tokens;  // prompt + generated, rolling run
  std::vector<int32_t> full_tokens;  // prompt + generated, full-cache run
  std::vector<std::string> labels;   // [ring_tokens.size()] token labels
  std::vector<GenStep> steps;        // [1 + generated]
  int first_divergence = -1;         // first position where the texts differ, -1 = none
  std::string ring_text, full_text;  // generated continuation only
};

// Perplexity of a text in assets/ under this setting (its pooled K/V heads and sparse
// pattern) and under the native model.
struct LivePerplexity {
  std::string text_path;
  int n_tokens = 0;
  int kv_heads = 0;      // the setting's K/V heads
  ModelVariant setting;  // what `variant` ran with: perplexity_setting() of the pass
  double native = 0;
  double variant = 0;
};

// Decode speed with a cache and with none (every step recomputes the sequence).
struct LiveSpeed {
  int prompt_tokens = 0;
  int steps = 0;
  double cache_tok_s = 0;
  double none_tok_s = 0;
  double ratio() const { return none_tok_s > 0 ? cache_tok_s / none_tok_s : 0; }
};

// Packed prompts: the packed pass against one separate pass per segment (live_packed.h).
struct LivePacked {
  std::vector<int> segments;  // [n_segments] token lengths
  double max_dlogit = 0;      // max |packed - separate| over every position's logits
  double max_logit = 0;       // max |logit| of the packed pass, the scale of max_dlogit
  double max_dp = 0;          // max |packed - separate| of next-token probabilities
  double ms = 0;              // wall time of the packed and the separate passes
};

// One head of the prompt's pass, for the flash view's online-softmax trace on real data: its
// q, k, v rows and the probabilities the model's own attention gave it.
struct LiveHeadVectors {
  model::HeadVectors vectors;         // [n, head_dim] q, k, v of (layer, head)
  model::AttentionCapture attention;  // the model's probabilities of the same head
  attn::MaskSpec layer_mask;          // the layer's mask in this setting
  // Packed prompts: what layer_mask.segment_ends points at, kept alive with it.
  std::shared_ptr<const std::vector<int32_t>> segment_ends;
  float scale = 0;              // the model's attention scale
  std::vector<int32_t> tokens;  // [n] the prompt it ran
};

struct LiveResult {
  uint64_t revision = 0;  // bumps with every publication
  int cancelled = 0;      // pieces of work a newer change cancelled so far
  // Model.
  std::string model_path;  // empty until a model loaded
  std::string model_name;
  std::string backend;
  std::optional<model::Config> config;
  double load_seconds = 0;
  std::string error;  // last failure (load or pass), empty when the last work succeeded
  // Results; null until computed for the current model, prompt and setting.
  std::shared_ptr<const LivePass> pass;    // the scene's setting
  std::shared_ptr<const LivePass> native;  // native setting (== pass when the setting is native)
  // The pass in flight, layers done so far (null when none runs); the live attention view
  // fills in from it layer by layer.
  std::shared_ptr<const LivePass> partial;
  // Once the exact pass of a setting replaced its draft: how far apart they were.
  std::shared_ptr<const DraftDelta> draft_delta;
  std::shared_ptr<const AttentionThumbs> diff_thumbs;  // pass minus native, when they differ
  std::shared_ptr<const LiveGeneration> generation;
  std::shared_ptr<const LivePerplexity> perplexity;
  std::shared_ptr<const LiveSpeed> speed;
  std::shared_ptr<const LivePacked> packed;  // when the pass packs prompts
  // The scene's (layer, head) of the current pass, when asked for (LiveSession::trace_head).
  std::shared_ptr<const LiveHeadVectors> head_vectors;
  std::string prompt;
};

// Progress of the work in flight.
struct LiveProgress {
  bool busy = false;
  float fraction = 0;  // 0..1, or < 0 when unknown (loading)
  std::string stage;   // "loading SmolLM2…", "forward pass", "native pass", ...
};

}  // namespace core
