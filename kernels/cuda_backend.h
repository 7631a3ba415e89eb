// core::Backend on an NVIDIA GPU: copies each call's inputs to the device, runs
// attention_kernel.cu, copies the output (and captured probabilities) back. Built only with
// CUDA (ATTNLAB_HAVE_CUDA); links the static CUDA runtime, never libcuda directly, so a
// machine without a driver still starts and simply has no device.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/attention/backend.h"
#include "kernels/call_packing.h"

namespace kernels {

// What cudaGetDeviceCount said, in words.
struct CudaProbe {
  int device_count = 0;
  int error = 0;           // cudaError_t of cudaGetDeviceCount, 0 = cudaSuccess
  std::string error_name;  // e.g. "cudaErrorNoDevice", "cudaErrorInsufficientDriver"
  std::string device;      // device 0, e.g. "NVIDIA H200, sm_90, 139 GiB"; empty if none
};

CudaProbe probe_cuda();

// What the GPU path takes. Any other call, and any call that hits a CUDA error, is computed
// by the CPU backend instead (the inputs are host memory, so the answer is the same) and
// counted in CudaBackend::cpu_fallbacks().
struct CudaCapabilities {
  int max_head_dim = 0;           // kernels::kMaxHeadDim
  bool capture = false;           // probability rows captured in the same pass
  int64_t max_capture_bytes = 0;  // larger captures fall back to the CPU
};

class CudaBackend : public core::Backend {
 public:
  // Throws std::runtime_error naming the CUDA error when the device cannot be used (no device,
  // no driver, or no kernel image for its architecture).
  explicit CudaBackend(int device = 0, int cpu_threads = 0);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  const char* name() const override { return "cuda"; }
  void attention(const core::AttentionCall& call) override;

  static CudaCapabilities capabilities();
  // Calls that the CPU backend computed instead, and why the latest one did.
  int64_t cpu_fallbacks() const;
  std::string last_fallback_reason() const;

 private:
  void run_on_device(const core::AttentionCall& call, const PackedCapture& pc);  // throws
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kernels
