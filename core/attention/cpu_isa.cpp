#include "core/attention/cpu_isa.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>

namespace core {

namespace {

Isa detect_isa() {
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("f16c");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512dq");
  return avx512 ? Isa::Avx512 : avx2 ? Isa::Avx2 : Isa::Scalar;
}

Isa env_cap(Isa best) {
  const char* env = std::getenv("ATTNLAB_ISA");
  if (!env || !*env) return best;
  const std::string s = env;
  const Isa want = s == "scalar" ? Isa::Scalar : s == "avx2" ? Isa::Avx2 : Isa::Avx512;
  return std::min(want, best);
}

std::atomic<Isa>& isa_slot() {
  static std::atomic<Isa> isa{env_cap(best_isa())};  // process-wide start-up choice
  return isa;
}

}  // namespace

Isa best_isa() {
  static const Isa isa = detect_isa();
  return isa;
}
Isa current_isa() {
  return isa_slot().load(std::memory_order_relaxed);
}
void force_isa(Isa isa) {
  isa_slot().store(std::min(isa, best_isa()));
}
const char* isa_name(Isa isa) {
  return isa == Isa::Avx512 ? "avx512" : isa == Isa::Avx2 ? "avx2" : "scalar";
}

}  // namespace core
