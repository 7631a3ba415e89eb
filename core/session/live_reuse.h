// Reuse between live passes (issue 12, item 4). The live session keeps the model::Session of
// its last pass, so the next pass recomputes only the positions a change can reach:
// - a new window: rows q < rows_in_common(old plan, new plan) see the same keys in every
//   layer (with W keys including self, the rows q < min(W_old, W_new) are plain causal under
//   both; with self plus W previous, q <= min(W_old, W_new)), so their K/V stay;
// - a prompt edited at its end: the positions before the first token id that differs stay
//   (K/V at position p depend on the ids 0..p only; ids are compared, not text, so a last
//   token that re-tokenizes differently when text is appended already counts as changed).
// The pass runs in chunks of kLivePassChunk positions and resumes at a chunk boundary, so a
// resumed pass does the same arithmetic in the same order as a pass from scratch and equals
// it bit for bit (test_live_reuse). The precision (LiveControl::precision) is part of what is
// kept: a draft session never resumes an exact pass, nor the other way round. A pass publishes
// each layer (LiveControl::layer_done) once every chunk went through it (the prefill runs
// layer-major), so its first layer shows after one layer's work at any length.
#pragma once

#include <memory>
#include <vector>

#include "core/model/forward.h"
#include "core/model/tokenizer.h"
#include "core/session/live_capture.h"
#include "core/session/live_result.h"
#include "core/session/live_runs.h"

namespace core {

// Positions per prefill chunk of a live pass (unless the variant sets its own chunk): the
// granularity of reuse. Measured on Gemma-3 at N = 4096, 2 threads (README Speed).
inline constexpr int kLivePassChunk = 256;

// What a live pass runs for variant v: a growing cache that keeps every key (the views read
// probabilities, and a rolling cache would show evicted keys as 0), or the paged cache the
// memory view reads (never resumed: Session::truncate needs a growing cache), in chunks.
ModelVariant live_pass_variant(const ModelVariant& v);

// Holds the session of the last pass; run() resumes it where it can.
class LivePassCache {
 public:
  LivePassCache();
  ~LivePassCache();
  LivePassCache(LivePassCache&&) noexcept;
  LivePassCache& operator=(LivePassCache&&) noexcept;

  // The pass of `tokens` under v, keeping what it can of the previous run(). Up to
  // kLiveFullCaptureTokens it captures every map; a longer prompt keeps the focused capture
  // of live_capture.h (focus_layer's heads, with_mean: the per-layer means). Throws
  // Cancelled (the kept session is then empty).
  LivePass run(const std::shared_ptr<const model::Model>& m, const model::Tokenizer& tok,
               const std::vector<int32_t>& tokens, const ModelVariant& v, const LiveControl& ctl,
               int focus_layer = 0, bool with_mean = true);
  // Positions the next run() would keep for these arguments (0 = from scratch).
  int reusable(const std::shared_ptr<const model::Model>& m, const std::vector<int32_t>& tokens,
               const ModelVariant& v, int focus_layer = 0, bool with_mean = true,
               model::Precision precision = model::Precision::Exact) const;
  void clear();

 private:
  struct Kept;
  // Whether the kept session can run the next pass (from any position): the same model and
  // products, a growing cache under both settings with the same K/V heads, and the same maps
  // captured (the same focus, or all; the same means).
  bool same_session(const std::shared_ptr<const model::Model>& m, const ModelVariant& rv, int focus,
                    bool with_mean, model::Precision precision) const;
  std::unique_ptr<Kept> k_;
};

}  // namespace core
