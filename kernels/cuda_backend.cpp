#include "kernels/cuda_backend.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "core/attention/cpu_attention.h"
#include "kernels/attention_kernel.h"
#include "kernels/call_packing.h"

namespace kernels {

namespace {

constexpr int64_t kMaxCaptureBytes = int64_t{2} << 30;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("CUDA backend: ") + what + " failed: " +
                             cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

// Device memory that only grows, so steady-state calls allocate nothing.
struct DeviceBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  void* reserve(size_t n) {
    if (n <= bytes) return ptr;
    if (ptr) check(cudaFree(ptr), "cudaFree");
    ptr = nullptr;
    bytes = 0;
    check(cudaMalloc(&ptr, n), "cudaMalloc");
    bytes = n;
    return ptr;
  }
  template <typename T>
  T* upload(const T* src, size_t count, cudaStream_t s) {
    T* dst = static_cast<T*>(reserve(count * sizeof(T)));
    if (count > 0)
      check(cudaMemcpyAsync(dst, src, count * sizeof(T), cudaMemcpyHostToDevice, s),
            "cudaMemcpyAsync to device");
    return dst;
  }
};

}  // namespace

CudaProbe probe_cuda() {
  CudaProbe p;
  const cudaError_t e = cudaGetDeviceCount(&p.device_count);
  if (e != cudaSuccess) {
    p.device_count = 0;
    p.error = static_cast<int>(e);
    p.error_name = cudaGetErrorName(e);
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return p;
  }
  if (p.device_count == 0) {
    p.error_name = "no device";
    return p;
  }
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
    char buf[320];
    std::snprintf(buf, sizeof buf, "%s, sm_%d%d, %.0f GiB", prop.name, prop.major, prop.minor,
                  static_cast<double>(prop.totalGlobalMem) / (1 << 30));
    p.device = buf;
  }
  return p;
}

struct CudaBackend::Impl {
  int device = 0;
  int cpu_threads = 0;
  cudaStream_t stream = nullptr;
  std::mutex mu;  // one call at a time: the buffers below are reused
  DeviceBuffer q, k_new, v_new, q_pos, slot_pos, k_cache, v_cache, out, probs, prob_offset,
      segment_ends;
  std::vector<float> host_probs;
  int64_t fallbacks = 0;
  std::string last_fallback;
};

CudaBackend::CudaBackend(int device, int cpu_threads) : impl_(std::make_unique<Impl>()) {
  impl_->device = device;
  impl_->cpu_threads = cpu_threads;
  check(cudaSetDevice(device), "cudaSetDevice");
  check(static_cast<cudaError_t>(attention_kernel_loadable()),
        "loading the attention kernel for this GPU");
  check(cudaStreamCreateWithFlags(&impl_->stream, cudaStreamNonBlocking), "cudaStreamCreate");
}

CudaBackend::~CudaBackend() {
  if (impl_ && impl_->stream) cudaStreamDestroy(impl_->stream);
}

CudaCapabilities CudaBackend::capabilities() {
  CudaCapabilities c;
  c.max_head_dim = kMaxHeadDim;
  c.capture = true;
  c.max_capture_bytes = kMaxCaptureBytes;
  return c;
}

int64_t CudaBackend::cpu_fallbacks() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->fallbacks;
}

std::string CudaBackend::last_fallback_reason() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->last_fallback;
}

void CudaBackend::attention(const core::AttentionCall& c) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  const PackedCapture pc = pack_capture(c);
  std::string why = kernel_unsupported_reason(c);
  if (why.empty() && pc.total * int64_t{sizeof(float)} > kMaxCaptureBytes)
    why = "capture of " + std::to_string(pc.total * sizeof(float) >> 20) + " MiB";
  if (why.empty()) {
    try {
      run_on_device(c, pc);
      return;
    } catch (const std::runtime_error& e) {
      // The inputs are untouched host memory, so the CPU can still give this call's answer.
      why = e.what();
    }
  }
  ++m.fallbacks;
  m.last_fallback = why;
  core::cpu_attention(c, m.cpu_threads);
}

void CudaBackend::run_on_device(const core::AttentionCall& c, const PackedCapture& pc) {
  Impl& m = *impl_;
  if (c.n_q <= 0) return;
  check(cudaSetDevice(m.device), "cudaSetDevice");
  const cudaStream_t s = m.stream;
  const size_t q_elems = static_cast<size_t>(c.n_q) * c.n_heads * c.head_dim;
  const size_t kv_new = static_cast<size_t>(c.n_q) * c.n_kv_heads * c.head_dim;
  const size_t kv_cache = static_cast<size_t>(c.n_slots) * c.n_kv_heads * c.head_dim;
  AttentionParams p = params_from_call(c);
  p.q = m.q.upload(c.q, q_elems, s);
  p.k_new = m.k_new.upload(c.k_new, kv_new, s);
  p.v_new = m.v_new.upload(c.v_new, kv_new, s);
  p.q_pos = m.q_pos.upload(c.q_pos, c.n_q, s);
  p.slot_pos = m.slot_pos.upload(c.slot_pos, c.n_slots, s);
  p.k_cache = m.k_cache.upload(c.k_cache, kv_cache, s);
  p.v_cache = m.v_cache.upload(c.v_cache, kv_cache, s);
  if (c.mask.segment_ends && c.mask.n_segments > 0)
    p.mask.segment_ends = m.segment_ends.upload(c.mask.segment_ends, c.mask.n_segments, s);
  p.out = static_cast<float*>(m.out.reserve(q_elems * sizeof(float)));
  if (pc.total > 0) {
    p.probs = static_cast<float*>(m.probs.reserve(pc.total * sizeof(float)));
    p.prob_offset = m.prob_offset.upload(pc.offset.data(), pc.offset.size(), s);
  }
  check(static_cast<cudaError_t>(kernels::attention(p, s)), "attention kernel launch");
  check(cudaMemcpyAsync(c.out, p.out, q_elems * sizeof(float), cudaMemcpyDeviceToHost, s),
        "cudaMemcpyAsync of the output");
  if (pc.total > 0) {
    m.host_probs.resize(pc.total);
    check(cudaMemcpyAsync(m.host_probs.data(), p.probs, pc.total * sizeof(float),
                          cudaMemcpyDeviceToHost, s),
          "cudaMemcpyAsync of the probabilities");
  }
  check(cudaStreamSynchronize(s), "attention kernel");
  if (pc.total > 0) unpack_capture(c, pc, m.host_probs.data());
}

}  // namespace kernels
