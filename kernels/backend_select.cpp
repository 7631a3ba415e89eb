#include "kernels/backend_select.h"

#include <cstdlib>
#include <exception>

#include "core/attention/parallel_for.h"
#include "kernels/kernel_emulator.h"
#if ATTNLAB_HAVE_CUDA
#include "kernels/cuda_backend.h"
#endif

namespace kernels {

namespace {

std::shared_ptr<core::Backend> cpu(const std::string& why, std::string* message) {
  if (message) {
    const int n = core::default_threads();
    *message = "backend: CPU (" + std::to_string(n) + (n == 1 ? " thread)" : " threads)");
    if (!why.empty()) *message += " \u2014 " + why;
  }
  return std::shared_ptr<core::Backend>(core::make_cpu_backend(0));
}

// The CUDA backend, or null with `why` saying what stood in the way.
std::shared_ptr<core::Backend> try_cuda(std::string* why, std::string* device) {
#if ATTNLAB_HAVE_CUDA
  const CudaProbe probe = probe_cuda();
  if (probe.device_count <= 0) {
    *why = probe.error == 0 ? "no CUDA device found"
                            : "no CUDA device found (" + probe.error_name + ")";
    return nullptr;
  }
  try {
    auto b = std::make_shared<CudaBackend>(0, 0);
    *device = probe.device;
    return b;
  } catch (const std::exception& e) {
    *why = e.what();
    return nullptr;
  }
#else
  (void)device;
  *why = "built without CUDA (ATTNLAB_CUDA=OFF or no nvcc at build time)";
  return nullptr;
#endif
}

}  // namespace

bool built_with_cuda() {
  return ATTNLAB_HAVE_CUDA != 0;
}

std::shared_ptr<core::Backend> select_backend(const std::string& request, std::string* message) {
  if (request == "cpu") return cpu("ATTNLAB_BACKEND=cpu", message);
  if (request == "emulator") {
    if (message)
      *message =
          "backend: CUDA kernel emulated on the CPU (ATTNLAB_BACKEND=emulator; slow, for checks)";
    return std::shared_ptr<core::Backend>(make_kernel_emulator_backend(0));
  }
  std::string prefix;
  if (request == "cuda")
    prefix = "ATTNLAB_BACKEND=cuda but ";
  else if (!request.empty() && request != "auto")
    prefix = "ATTNLAB_BACKEND=" + request + " is not cpu, cuda, emulator or auto; ";
  std::string why, device;
  if (auto b = try_cuda(&why, &device)) {
    if (message) *message = "backend: CUDA (" + (device.empty() ? "device 0" : device) + ")";
    return b;
  }
  return cpu(prefix + why, message);
}

std::shared_ptr<core::Backend> select_backend(std::string* message) {
  const char* env = std::getenv("ATTNLAB_BACKEND");
  return select_backend(env ? std::string(env) : std::string(), message);
}

core::BackendFactory select_backend_factory(std::string* message) {
  const std::shared_ptr<core::Backend> first = select_backend(message);
  const std::string kind = first->name();
  return [kind](int n_threads) -> std::shared_ptr<core::Backend> {
    if (kind == "kernel-emulator")
      return std::shared_ptr<core::Backend>(make_kernel_emulator_backend(n_threads));
#if ATTNLAB_HAVE_CUDA
    if (kind == "cuda") {
      try {
        return std::make_shared<CudaBackend>(0, n_threads);
      } catch (const std::exception&) {
        // The device went away after start-up: the CPU computes the same numbers.
      }
    }
#endif
    return std::shared_ptr<core::Backend>(core::make_cpu_backend(n_threads));
  };
}

}  // namespace kernels
