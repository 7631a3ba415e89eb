// The flash view's data: the tiling (block sizes, tile grid, HBM traffic, FA1/FA2, the
// kernel's own tiles) and the online-softmax trace of the scene's query row.
#pragma once

#include "core/scene/scene.h"
#include "core/views/flash_online.h"
#include "core/views/flash_tiling.h"

namespace core {

struct FlashView {
  FlashTiling tiling;
  OnlineSoftmaxTrace trace;
};

inline FlashView build_flash_view(const Scene& scene) {
  return FlashView{build_flash_tiling(scene, true), build_online_trace(scene)};
}

}  // namespace core
