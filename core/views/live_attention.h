// Live attention view: the probabilities the model really computed for the prompt, as an
// overview of every layer × head (thumbnails) and one large map (a head, or the mean / max
// over the heads of a layer), optionally as the difference to the native run.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/session/live_result.h"
#include "core/session/live_thumbs.h"
#include "core/views/live_sparse.h"

namespace core {

enum class LiveAggregate { Head, Mean, Max };
const char* live_aggregate_name(LiveAggregate a);  // "head", "mean", "max"

struct LiveAttentionOptions {
  int layer = 0;
  int head = 0;
  LiveAggregate aggregate = LiveAggregate::Head;
  bool difference = false;            // this setting minus native
  int thumb_cells = kLiveThumbCells;  // thumbnails are at most this many cells a side
  // Precomputed thumbnails (the worker's); used when their size and mode match.
  const AttentionThumbs* thumbs = nullptr;
};

struct LiveAttention {
  int n = 0;  // tokens
  int n_layers = 0, n_heads = 0, kv_heads = 0;
  int layer = 0, head = 0;
  LiveAggregate aggregate = LiveAggregate::Head;
  bool difference = false;          // values are this setting minus native
  std::vector<std::string> labels;  // [n]
  attn::MaskSpec mask;              // the selected layer's mask in this setting
  std::shared_ptr<const std::vector<int32_t>> segment_ends;  // what mask.segment_ends points at
  // Large map [cells*cells], row = query, col = key. NaN where the key is hidden: not
  // visible() under the layer's mask (difference: hidden in both runs). Exact (cells == n,
  // block 1) up to kLiveMapMaxCells tokens; beyond, each cell is the max (difference: the
  // value of largest magnitude) over a block x block square of positions.
  int cells = 0, block = 1;
  std::vector<float> values;
  // What the hover reads the exact value of a pooled map from.
  std::shared_ptr<const model::Capture> capture, native_capture;
  float vmin = 0, vmax = 1;
  // Thumbnails [n_layers*n_heads][thumb*thumb]: each cell the max (difference: the value of
  // largest magnitude) over the block of n/thumb positions it covers; NaN when all masked.
  int thumb = 0;
  std::vector<std::vector<float>> thumbs;
  float thumb_vmin = 0, thumb_vmax = 1;
  std::string setting;  // "native", "SWA W=8 (W keys including self)", "1 KV head (pooled)"...
  model::Precision precision = model::Precision::Exact;  // draft: the int8/bf16 pass while sliding
  std::string draft_why;  // why a draft shows or was skipped (draft_choice_text); "" = drafts off
  int layers_done = 0;    // < n_layers while the pass still runs; later layers are empty (NaN)
  LiveSparseCost sparse;  // pairs saved and perplexity lost, when the pass ran sparse
};

// Long maps are drawn pooled to at most this many cells a side (one texture, one image).
inline constexpr int kLiveMapMaxCells = 1024;

// Needs pass.capture with every (layer, head), or a long pass's focus layer (then the map
// shows that layer), or a running pass's finished layers (the others show as empty);
// native may be null (difference unavailable).
LiveAttention build_live_attention(const LivePass& pass, const LivePass* native,
                                   const model::Config& c, const LiveAttentionOptions& o);

// "native", "SWA W=8 (including self) on all layers", "KV heads 3 -> 1 (pooled)", ...
std::string variant_label(const ModelVariant& v, const model::Config& c);

// The exact value at (q, k) of the large map (NaN where hidden), pooled or not.
float live_attention_value(const LiveAttention& a, int q, int k);

// Hover text for a (query, key) position of the large map.
std::string describe_live_attention_cell(const LiveAttention& a, int q, int k);

}  // namespace core
