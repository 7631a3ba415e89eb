#include <mutex>
#include <string>
#include <utility>

#include "core/attention/backend.h"
#include "core/attention/parallel_for.h"

namespace core {

namespace {

struct DefaultBackend {
  std::mutex mu;
  BackendFactory factory;  // empty = the CPU backend
  std::string description;
};

DefaultBackend& registry() {
  static DefaultBackend r;  // process-wide start-up choice, not UI state
  return r;
}

}  // namespace

void set_default_backend(BackendFactory factory, std::string description) {
  DefaultBackend& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.factory = std::move(factory);
  r.description = std::move(description);
}

std::shared_ptr<Backend> make_default_backend(int n_threads) {
  BackendFactory f;
  {
    DefaultBackend& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    f = r.factory;
  }
  if (f) return f(n_threads);
  return std::shared_ptr<Backend>(make_cpu_backend(n_threads));
}

std::string default_backend_description() {
  DefaultBackend& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (!r.description.empty()) return r.description;
  const int n = default_threads();
  return "backend: CPU (" + std::to_string(n) + (n == 1 ? " thread)" : " threads)");
}

}  // namespace core
