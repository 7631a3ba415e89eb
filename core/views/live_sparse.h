// What the live model's sparse pattern saves and what it loses: the query-key pairs every
// layer and head computes on the prompt under spec.h's Sparse rule against dense causal
// attention (the same count as `sparse.visible_pairs` for a scene of the prompt's length),
// and the perplexity on the text in assets/texts under the pattern against the native model.
#pragma once

#include <cstdint>
#include <string>

#include "core/session/live_result.h"

namespace core {

struct LiveSparseCost {
  bool active = false;  // the pass ran under a sparse pattern
  int n = 0;            // prompt tokens
  int global = 0, local = 0, random = 0;
  uint32_t seed = 0;
  int64_t visible_pairs = 0;  // per layer and head, under the pass's pattern
  int64_t dense_pairs = 0;    // n (n + 1) / 2
  bool has_ppl = false;       // the perplexity of this pattern is in
  bool native_dense = true;   // the native model attends causally on every layer
  double ppl_sparse = 0, ppl_dense = 0;
  int ppl_tokens = 0;
  std::string ppl_text;  // file name of the scored text
  std::string status;    // "sparse: X of Y pairs (Z%), ppl A vs dense B"; empty when inactive
};

LiveSparseCost build_live_sparse(const LiveResult& r);

}  // namespace core
