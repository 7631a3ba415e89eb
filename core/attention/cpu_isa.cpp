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

constexpr const char* kIsaEnv = "ATTNLAB_ISA";
constexpr Isa kIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512};

// ATTNLAB_ISA's value as a path (isa_name's spelling); false for any other value.
bool parse_isa(const std::string& s, Isa* isa) {
  for (Isa i : kIsas)
    if (s == isa_name(i)) {
      *isa = i;
      return true;
    }
  return false;
}

Isa env_cap(Isa best) {
  const char* env = std::getenv(kIsaEnv);
  Isa want = best;  // an unknown value leaves it (the app and the CLI refuse one up front)
  if (env) parse_isa(env, &want);
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

std::string isa_env_error() {
  const char* env = std::getenv(kIsaEnv);
  Isa isa;
  if (!env || !*env || parse_isa(env, &isa)) return "";
  std::string e = std::string(kIsaEnv) + "=" + env + ": not one of ";
  for (Isa i : kIsas) e += std::string(isa_name(i)) + (i == Isa::Avx512 ? "" : ", ");
  return e;
}

}  // namespace core
