// ModelVariant: how the live model runs (window override, K/V-head pooling, cache mode,
// chunked prefill, sparse pattern, packed prompts). Lives in core/model so the runtime never
// includes the scene; the Scene holds one of these for its run part.
#pragma once

#include <cstdint>
#include <vector>

#include "core/attention/spec.h"

namespace core {

enum class CacheMode { None, Full, Rolling, Paged };

const char* cache_mode_name(CacheMode m);

// Run options for the live model. Zero / empty means "the model's native configuration".
struct ModelVariant {
  int window = 0;  // sliding-window override; 0 = native
  attn::WindowConvention window_convention = attn::WindowConvention::IncludingSelf;
  std::vector<int> window_layers;  // layers the override applies to; empty = all layers
  int kv_heads = 0;                // mean-pool K/V heads down to this many; 0 = native
  CacheMode cache = CacheMode::Full;
  int chunk = 0;   // chunked prefill length; 0 = one-shot prefill
  int block = 16;  // CacheMode::Paged: tokens per physical block
  // Run every layer under the sparse pattern of spec.h instead of its own mask (global
  // tokens, a local band of keys including self, seeded random keys); sparse_local 0 = off.
  int sparse_global = 0;
  int sparse_local = 0;
  int sparse_random = 0;
  uint32_t sparse_seed = 1;
  // Packed prompts: token lengths of the prompts packed into one sequence, in order; empty =
  // one prompt. Every layer runs under spec.h's BlockDiagonal mask (causal inside a segment,
  // nothing across; a layer's window applies inside its segment) and RoPE positions restart
  // at 0 in each segment. The last segment is open: tokens past the sum (decode steps)
  // continue it.
  std::vector<int> segments;
  bool operator==(const ModelVariant&) const = default;
};

}  // namespace core
