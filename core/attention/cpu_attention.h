// The CPU attention backend: every call goes to the decode path (cpu_decode.h) or, for chunks
// of kPrefillMinQueries or more queries, the tiled path (cpu_prefill.h); both take
// visibility from spec.h.
#pragma once

#include "core/attention/backend.h"
#include "core/attention/cpu_prefill.h"

namespace core {

// Computes one call on the calling thread plus up to n_threads-1 helpers.
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
