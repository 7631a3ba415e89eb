// The flash view's online-softmax trace on the real model: one head's q, k, v rows and its
// attention probabilities from a prefill of the prompt that captures nothing else.
#pragma once

#include <memory>
#include <vector>

#include "core/model/forward.h"
#include "core/session/live_result.h"
#include "core/session/live_runs.h"

namespace core {

// Runs the tokens under the variant (a rolling or absent cache runs as a full one, as the
// live pass does, so every key stays visible) and keeps (layer, head). Throws Cancelled, and
// std::invalid_argument for a layer or head the model lacks. A packed (segmented) mask keeps
// its segment list alive in LiveHeadVectors::segment_ends.
LiveHeadVectors capture_head_vectors(const std::shared_ptr<const model::Model>& m,
                                     const std::vector<int32_t>& tokens, const ModelVariant& v,
                                     int layer, int head, const LiveControl& ctl);

}  // namespace core
