// Packed prompts in the live views: the prompt's tokens fitted to the scene's segments, and
// the packed pass compared with one separate pass per segment, so the view can show that
// packing changes nothing a prompt computes (issue 10, part 6).
#pragma once

#include <memory>
#include <vector>

#include "core/model/forward.h"
#include "core/session/live_result.h"
#include "core/session/live_runs.h"

namespace core {

// Cuts `tokens` to the sum of the segment lengths (sets *cut when it did). Throws
// std::invalid_argument, giving both counts, when the prompt has fewer tokens than that.
// Does nothing without segments.
void fit_to_segments(std::vector<int32_t>& tokens, const std::vector<int>& segments, bool* cut);

// Runs the tokens packed under v.segments (all positions' logits) and each segment alone (v
// without segments), and returns the largest differences. Throws Cancelled.
LivePacked compare_packed(const std::shared_ptr<const model::Model>& m,
                          const std::vector<int32_t>& tokens, const ModelVariant& v,
                          const LiveControl& ctl);

}  // namespace core
