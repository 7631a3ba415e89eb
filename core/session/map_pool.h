// Storage for attention maps, recycled between live passes. A pass at N = 512 writes 142 MB
// of maps (SmolLM2, every head) and hands a copy of each finished layer to the view, as much
// again. Fresh allocations of that size come from the kernel as zeroed pages, one fault per
// 4 KB: about 70 ms of a 740 ms pass (measured: the same prefill with malloc reusing its
// freed memory). Maps come back here when their last holder drops them, and the next pass
// writes into them. The pool holds at most `limit` buffers and frees the rest; the live passes
// set one pass's maps plus one layer's copies for prompts up to 512 tokens (so an idle app
// keeps up to 142 MB more at N = 512, SmolLM2) and none for longer ones.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "core/model/forward.h"

namespace core {

class MapPool {
 public:
  // An empty vector, with the capacity of a returned buffer when there is one.
  std::vector<float> take();
  // Every buffer held (the session adopts them for its maps: Session::recycle_maps).
  std::vector<std::vector<float>> take_all();
  void give(std::vector<float>&& v);
  void set_limit(size_t buffers);

  // Shared holders whose maps' storage returns to `pool` (if it still exists) when the last
  // holder lets go.
  static std::shared_ptr<const std::vector<model::AttentionCapture>> hold(
      const std::shared_ptr<MapPool>& pool, std::vector<model::AttentionCapture>&& maps);
  static std::shared_ptr<const model::Capture> hold(const std::shared_ptr<MapPool>& pool,
                                                    model::Capture&& cap);

 private:
  void give_maps(std::vector<model::AttentionCapture>& maps);
  std::mutex mu_;
  std::vector<std::vector<float>> free_;
  size_t limit_ = 0;
};

}  // namespace core
