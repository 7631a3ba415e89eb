// Thumbnails of a live pass: every (layer, head) map max-pooled to a few cells a side. The
// worker builds them once per pass (live_session, live_progress); the live attention view
// (core/views/live_attention.h) draws them.
#pragma once

#include "core/model/config.h"
#include "core/session/live_result.h"

namespace core {

// Thumbnails of every (layer, head); with `native`, of this setting minus native.
AttentionThumbs build_attention_thumbs(const LivePass& pass, const LivePass* native,
                                       const model::Config& c, int thumb_cells);

// The thumbnail cell that holds a token: token * thumb / n.
int thumb_cell_of(int token, int n, int thumb);

}  // namespace core
