// What a live pass keeps of a long prompt (issue 12, item 6). Up to kLiveFullCaptureTokens
// the pass captures every layer × head map; beyond, every map would not fit (SmolLM2 at
// N = 4096: 30 layers × 9 heads × 8.4 M floats = 9 GB), so the pass keeps only what the open
// views draw, reduced on the fly from the model's probability rows (RunOptions::on_rows):
//   - every head of the focus layer (the scene's layer: the large map, any head or aggregate);
//   - the mean over heads of every layer (the rollout), as AttentionCapture head kLayerMean;
//   - block maxima of every (layer, head) over kLongThumbBlock positions (the thumbnails).
// Rows below a kept prefix (live_reuse.h) are copied from the previous pass.
#pragma once

#include <memory>
#include <vector>

#include "core/model/forward.h"
#include "core/session/live_result.h"

namespace core {

inline constexpr int kLiveFullCaptureTokens = 512;  // longer prompts: the focused capture
inline constexpr int kLongThumbBlock = 128;         // positions per block of the long thumbnails
inline constexpr int kLayerMean = -1;               // AttentionCapture::head of a layer's mean

// Whether a pass of n tokens keeps the focused capture instead of every map.
inline bool long_capture(int n) {
  return n > kLiveFullCaptureTokens;
}

// The reductions of one long pass, fed row by row.
struct LongCapture {
  int n = 0, n_layers = 0, n_heads = 0;
  int nb = 0;                                 // blocks a side: ceil(n / kLongThumbBlock)
  std::vector<attn::MaskSpec> masks;          // [n_layers]
  std::vector<model::AttentionCapture> mean;  // [n_layers] rows 0..n-1, head kLayerMean
  std::vector<std::vector<float>> blocks;     // [n_layers*n_heads][nb*nb] max, NaN = all hidden

  // with_mean: also the per-layer means (the pass the rollout reads; the native pass skips it).
  LongCapture(int n_tokens, const model::Config& c, const std::vector<model::LayerPlan>& plan,
              bool with_mean);
  // The rows of one layer's chunk (RunOptions::on_rows).
  void add_rows(int layer, const int32_t* pos, int n_q, float* const* rows, int n_threads);
  // Copies rows q < keep from a previous pass over the same first keep tokens (keep is a
  // multiple of kLongThumbBlock): its means (moved into that pass's capture) and blocks.
  void keep_rows(const model::Capture& prev_cap, const std::vector<std::vector<float>>& prev_blocks,
                 int prev_nb, int keep);
  // Thumbnails of at most `cells` a side, each the max of the blocks it covers.
  AttentionThumbs thumbs(int cells) const;
};

}  // namespace core
