// What a running live pass publishes: after each layer a partial LivePass with the layers done
// so far (the live attention view fills in layer by layer), and, once the exact pass replaced
// a draft, how far apart the two were.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "core/session/live_result.h"

namespace core {

// Collects the finished layers of one pass, in layer order, and builds the partial passes.
class PartialPassBuilder {
 public:
  // `head`: the pass's tokens, labels, variant, precision, plan and kv_heads (no capture).
  PartialPassBuilder(LivePass head, const model::Config& c);
  // Layer `layer` finished in `cap` (read during the call: its thumbnails), with the heads the
  // partial pass keeps (null: the layer shows as thumbnails only): the partial pass with
  // layers 0..layer.
  std::shared_ptr<const LivePass> add(
      int layer, const model::Capture& cap,
      std::shared_ptr<const std::vector<model::AttentionCapture>> heads);
  // The same, but the partial pass (a copy of every layer's thumbnails) is built only for
  // layer 0 and once at least `every_ms` passed since the last one built; null otherwise.
  // The layer counts either way.
  std::shared_ptr<const LivePass> add_at_most_every(
      double every_ms, int layer, const model::Capture& cap,
      std::shared_ptr<const std::vector<model::AttentionCapture>> heads);
  // The thumbnails of every layer added so far (the finished pass's, once all were added).
  std::shared_ptr<const AttentionThumbs> thumbs() const;
  int layers_done() const { return pass_.layers_done; }

 private:
  bool take(int layer, const model::Capture& cap,
            std::shared_ptr<const std::vector<model::AttentionCapture>> heads);
  std::shared_ptr<const LivePass> partial() const;

  LivePass pass_;
  AttentionThumbs thumbs_;
  std::chrono::steady_clock::time_point last_built_;
  const model::Config& config_;
};

// max |Δp| per (layer, head) between a draft pass and the exact pass of the same tokens and
// setting; null when they are not comparable.
std::shared_ptr<const DraftDelta> draft_delta(const LivePass& draft, const LivePass& exact,
                                              const model::Config& c);

}  // namespace core
