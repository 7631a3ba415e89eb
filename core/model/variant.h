// ModelVariant: how the live model runs (window override, K/V-head pooling, cache mode,
// chunked prefill). Lives in core/model so the runtime never includes the scene; the Scene
// holds one of these for its run part.
#pragma once

#include <vector>

#include "core/attention/spec.h"

namespace core {

enum class CacheMode { None, Full, Rolling };

const char* cache_mode_name(CacheMode m);

// Run options for the live model. Zero / empty means "the model's native configuration".
struct ModelVariant {
  int window = 0;  // sliding-window override; 0 = native
  attn::WindowConvention window_convention = attn::WindowConvention::IncludingSelf;
  std::vector<int> window_layers;  // layers the override applies to; empty = all layers
  int kv_heads = 0;                // mean-pool K/V heads down to this many; 0 = native
  CacheMode cache = CacheMode::Full;
  int chunk = 0;  // chunked prefill length; 0 = one-shot prefill
  bool operator==(const ModelVariant&) const = default;
};

}  // namespace core
