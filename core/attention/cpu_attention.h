// CPU reference attention: loops the per-row functions of attn_math.h over every (query, head)
// row of an AttentionCall, taking visibility from spec.h.
#pragma once

#include "core/attention/backend.h"
#include "core/attention/cpu_prefill.h"

namespace core {

// Computes one call on the calling thread plus up to n_threads-1 helpers: row by row, or
// tiled (cpu_prefill.h) for chunks of kPrefillMinQueries or more queries.
void cpu_attention(const AttentionCall& call, int n_threads);

class CpuBackend : public Backend {
 public:
  explicit CpuBackend(int n_threads) : n_threads_(n_threads) {}
  const char* name() const override { return "cpu"; }
  void attention(const AttentionCall& call) override { cpu_attention(call, n_threads_); }

 private:
  int n_threads_;
};

}  // namespace core
