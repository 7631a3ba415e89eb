// Thumbnails of a live pass: every (layer, head) map max-pooled to a few cells a side. The
// worker builds them once per pass (live_session, live_progress); the live attention view
// (core/views/live_attention.h) draws them.
#pragma once

#include <vector>

#include "core/attention/spec.h"
#include "core/model/config.h"
#include "core/model/forward.h"
#include "core/session/live_result.h"

namespace core {

// Thumbnails of every (layer, head); with `native`, of this setting minus native. Heads are
// split over n_threads (0 = every core); the maps are the same whatever the threads.
AttentionThumbs build_attention_thumbs(const LivePass& pass, const LivePass* native,
                                       const model::Config& c, int thumb_cells, int n_threads = 0);

// One layer's thumbnails (heads in order) from a capture in flight: the maps
// build_attention_thumbs makes for that layer of a pass of n_tokens under `mask`.
std::vector<std::vector<float>> layer_thumbs(const model::Capture& cap, int layer, int n_heads,
                                             int n_tokens, const attn::MaskSpec& mask,
                                             int thumb_cells, int n_threads = 0);

// The thumbnail cell that holds a token: token * thumb / n.
int thumb_cell_of(int token, int n, int thumb);

}  // namespace core
