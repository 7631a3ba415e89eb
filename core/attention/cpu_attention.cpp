#include "core/attention/cpu_attention.h"

#include <stdexcept>

#include "core/attention/cpu_decode.h"

namespace core {

void cpu_attention(const AttentionCall& c, int n_threads) {
  if (c.head_dim > 512) throw std::invalid_argument("cpu_attention: head_dim > 512");
  if (c.n_q >= kPrefillMinQueries) return cpu_attention_prefill(c, n_threads);
  cpu_attention_decode(c, n_threads);
}

std::unique_ptr<Backend> make_cpu_backend(int n_threads) {
  return std::make_unique<CpuBackend>(n_threads);
}

}  // namespace core
