#include "tests/bench/blas_setup.h"

#include <cblas.h>

#include <cstdlib>
#include <mutex>

// DYNAMIC_ARCH builds export their core selection; weak, so other builds link too.
extern "C" __attribute__((weak)) void gotoblas_dynamic_init(void);
extern "C" __attribute__((weak)) void gotoblas_dynamic_quit(void);

namespace bench {

namespace {

bool generic_core(const std::string& name) {
  return name == "Prescott" || name == "Core2" || name == "Penryn" || name == "Nehalem" ||
         name == "Dunnington" || name == "Atom" || name == "Unknown";
}

const char* best_core() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}

}  // namespace

std::string tune_openblas() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* forced = std::getenv("OPENBLAS_CORETYPE");
    const char* off = std::getenv("ATTNLAB_OPENBLAS_TUNE");
    if ((forced && *forced) || (off && std::string(off) == "0") || !gotoblas_dynamic_init ||
        !gotoblas_dynamic_quit)
      return;
    const char* want = best_core();
    if (!want || !generic_core(openblas_get_corename())) return;
    // init keeps a selection it already made, so drop that first; no BLAS call has run yet.
    setenv("OPENBLAS_CORETYPE", want, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
  });
  return openblas_get_corename();
}

}  // namespace bench
