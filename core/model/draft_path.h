// The kernel path of a draft precision (qgemm_int8, qgemm_bf16), picked at run time like the
// instruction set (cpu_isa.h): the AVX-512 extension's path (value 1) where the CPU has it,
// else the portable one (value 0), which ATTNLAB_DRAFT=emulated forces and any instruction-set
// cap below AVX-512 implies. Tests force either; a forced path is clamped to the best.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>

#include "core/attention/cpu_isa.h"

namespace core::model {

// The variable that caps the draft's path, and its one value.
inline constexpr const char* kDraftEnv = "ATTNLAB_DRAFT";
inline constexpr const char* kDraftEmulated = "emulated";

// What is wrong with ATTNLAB_DRAFT ("" when it is unset, empty or kDraftEmulated): as for
// ATTNLAB_ISA (cpu_isa.h), the app and the CLI refuse to start on any other value (exit 2).
inline std::string draft_env_error() {
  const char* env = std::getenv(kDraftEnv);
  if (!env || !*env || std::string(env) == kDraftEmulated) return "";
  return std::string(kDraftEnv) + "=" + env + ": the only value is " + kDraftEmulated;
}

template <typename Path>
class DraftPathSlot {
 public:
  // has_extension: the CPU has the AVX-512 extension the fast path needs.
  explicit DraftPathSlot(bool has_extension)
      : best_(has_extension && best_isa() == Isa::Avx512 ? Path{1} : Path{0}),
        slot_(emulated_by_env() ? Path{0} : best_) {}

  Path best() const { return best_; }
  Path current() const {
    return current_isa() != Isa::Avx512 ? Path{0} : slot_.load(std::memory_order_relaxed);
  }
  void force(Path p) { slot_.store(std::min(p, best_)); }

 private:
  static bool emulated_by_env() {
    const char* env = std::getenv(kDraftEnv);
    return env && std::string(env) == kDraftEmulated;
  }

  const Path best_;
  std::atomic<Path> slot_;
};

}  // namespace core::model
