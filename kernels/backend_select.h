// Picks the attention backend at start-up and says, in one sentence, which one and why.
#pragma once

#include <memory>
#include <string>

#include "core/attention/backend.h"

namespace kernels {

// CUDA when this build has it and cudaGetDeviceCount() finds a device, else the CPU backend.
// The environment variable ATTNLAB_BACKEND=cpu|cuda|emulator forces a choice (cuda without a
// device still gives the CPU, and the message says so). `message`, when not null, receives a
// sentence for the status bar or stderr, e.g.
//   "backend: CPU (8 threads) — no CUDA device found (cudaErrorNoDevice)".
std::shared_ptr<core::Backend> select_backend(std::string* message);

// The same with the request given instead of read from the environment ("" or "auto" = auto).
std::shared_ptr<core::Backend> select_backend(const std::string& request, std::string* message);

// Decides once, as select_backend(message) does, and returns a factory that makes a fresh
// backend of that kind for each model session (for core::set_default_backend).
core::BackendFactory select_backend_factory(std::string* message);

// Whether this binary was built with the CUDA backend (ATTNLAB_CUDA=AUTO with nvcc, or ON).
bool built_with_cuda();

}  // namespace kernels
