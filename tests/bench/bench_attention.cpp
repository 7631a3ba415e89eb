// Attention alone, per backend: a prefill chunk of N queries with no cache and one decode
// query against N cached positions, head_dim 64 and GQA 9/3 (SmolLM2's attention shape).
// The CUDA variants report "skipped" without a device; with one they also report
// cpu_over_cuda, the CPU time of the same call divided by the GPU time (copies included).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/attention/backend.h"
#include "core/attention/parallel_for.h"
#include "core/model/thread_pool.h"
#if ATTNLAB_HAVE_CUDA
#include "kernels/cuda_backend.h"
#endif

namespace {

struct AttentionInputs {
  std::vector<int32_t> q_pos, slot_pos;
  std::vector<float> q, k_new, v_new, k_cache, v_cache, out;
  core::AttentionCall call;
};

// Query heads, K/V heads and head_dim of a model's attention.
struct Shape {
  int heads, kv_heads, head_dim;
};
constexpr Shape kSmolLM2{9, 3, 64};
constexpr Shape kGemma3{4, 1, 256};

// decode = false: N fresh queries at positions 0..N-1; true: one query after N cached keys.
std::unique_ptr<AttentionInputs> make_call(int n, bool decode, Shape shape = kSmolLM2) {
  const int kHeads = shape.heads, kKvHeads = shape.kv_heads, kHeadDim = shape.head_dim;
  auto in = std::make_unique<AttentionInputs>();
  std::mt19937 rng(42);
  std::normal_distribution<float> d;
  auto fill = [&](std::vector<float>& v, size_t count) {
    v.resize(count);
    for (auto& x : v) x = d(rng);
  };
  const int n_q = decode ? 1 : n;
  const int n_slots = decode ? n : 0;
  in->q_pos.resize(n_q);
  std::iota(in->q_pos.begin(), in->q_pos.end(), n_slots);
  in->slot_pos.resize(n_slots);
  std::iota(in->slot_pos.begin(), in->slot_pos.end(), 0);
  fill(in->q, size_t{1} * n_q * kHeads * kHeadDim);
  fill(in->k_new, size_t{1} * n_q * kKvHeads * kHeadDim);
  fill(in->v_new, size_t{1} * n_q * kKvHeads * kHeadDim);
  fill(in->k_cache, size_t{1} * n_slots * kKvHeads * kHeadDim);
  fill(in->v_cache, size_t{1} * n_slots * kKvHeads * kHeadDim);
  in->out.resize(in->q.size());
  core::AttentionCall& c = in->call;
  c.n_q = n_q;
  c.n_heads = kHeads;
  c.n_kv_heads = kKvHeads;
  c.head_dim = kHeadDim;
  c.scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  c.q_pos = in->q_pos.data();
  c.q = in->q.data();
  c.k_new = in->k_new.data();
  c.v_new = in->v_new.data();
  c.n_slots = n_slots;
  c.slot_pos = in->slot_pos.data();
  c.k_cache = in->k_cache.data();
  c.v_cache = in->v_cache.data();
  c.out = in->out.data();
  return in;
}

void set_counters(benchmark::State& state, int n, bool decode) {
  state.counters["N"] = n;
  state.counters["queries/s"] =
      benchmark::Counter(decode ? 1.0 : double(n), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_attention_cpu(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const bool decode = state.range(1) != 0;
  auto in = make_call(n, decode);
  auto cpu = core::make_cpu_backend(0);
  for (auto _ : state) {
    cpu->attention(in->call);
    benchmark::DoNotOptimize(in->out.data());
  }
  set_counters(state, n, decode);
}

void BM_attention_cuda(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const bool decode = state.range(1) != 0;
#if ATTNLAB_HAVE_CUDA
  const kernels::CudaProbe probe = kernels::probe_cuda();
  if (probe.device_count <= 0) {
    state.SkipWithError(("skipped: no CUDA device (" + probe.error_name + ")").c_str());
    for (auto _ : state) {
    }
    return;
  }
  auto in = make_call(n, decode);
  // The CPU time of the same call, best of a few runs, for the ratio.
  auto cpu = core::make_cpu_backend(0);
  double cpu_s = 1e30;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    cpu->attention(in->call);
    cpu_s = std::min(cpu_s,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  kernels::CudaBackend gpu(0, 0);
  gpu.attention(in->call);  // warm-up: allocations, module load
  double gpu_total = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    gpu.attention(in->call);  // synchronous: returns once the output is back on the host
    gpu_total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  set_counters(state, n, decode);
  if (state.iterations() > 0)
    state.counters["cpu_over_cuda"] = cpu_s / (gpu_total / state.iterations());
  state.SetLabel(probe.device);
#else
  (void)n;
  (void)decode;
  state.SkipWithError("skipped: built without CUDA (ATTNLAB_CUDA=OFF or no nvcc)");
  for (auto _ : state) {
  }
#endif
}

// The long-prompt case of scripts/bench: N fresh queries (SmolLM2's shapes), causal or a
// sliding window of `window` keys including self, threads from ATTNLAB_BENCH_THREADS.
// tests/bench/bench_all.py times torch's SDPA on the same shapes and the same dense mask.
void BM_attention_long(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int window = static_cast<int>(state.range(1));
  auto in = make_call(n, false);
  if (window > 0) {
    in->call.mask.kind = attn::MaskKind::SlidingWindow;
    in->call.mask.window = window;
  }
  const char* env = std::getenv("ATTNLAB_BENCH_THREADS");
  auto cpu = core::make_cpu_backend(env && *env ? std::atoi(env) : 0);
  for (auto _ : state) {
    cpu->attention(in->call);
    benchmark::DoNotOptimize(in->out.data());
  }
  set_counters(state, n, false);
}
BENCHMARK(BM_attention_long)
    ->ArgsProduct({{1024, 16384}, {0, 512}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();

// One decode step's attention for one layer: a query against N cached keys, with SmolLM2's
// shapes (model 0: 9/3 heads, head_dim 64) or Gemma-3's (model 1: 4/1, head_dim 256), threads
// from ATTNLAB_BENCH_THREADS, lent by a pool as the forward pass lends its own. A decode step
// runs this once per layer (30 and 18 layers); here the K/V stay in cache between calls.
void BM_attention_decode(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto in = make_call(n, true, state.range(1) == 0 ? kSmolLM2 : kGemma3);
  const char* env = std::getenv("ATTNLAB_BENCH_THREADS");
  const int threads = env && *env ? std::atoi(env) : core::default_threads();
  core::model::ThreadPool pool(threads);
  const std::function<void(int, const std::function<void(int)>&)> lend =
      [&](int count, const std::function<void(int)>& fn) { pool.run(count, fn); };
  in->call.parallel = &lend;
  auto cpu = core::make_cpu_backend(threads);
  for (auto _ : state) {
    cpu->attention(in->call);
    benchmark::DoNotOptimize(in->out.data());
  }
  set_counters(state, n, true);
}
BENCHMARK(BM_attention_decode)
    ->ArgsProduct({{512, 4096}, {0, 1}})
    ->ArgNames({"N", "model"})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// {N, decode}
BENCHMARK(BM_attention_cpu)
    ->ArgsProduct({{256, 1024}, {0, 1}})
    ->ArgNames({"N", "decode"})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_attention_cuda)
    ->ArgsProduct({{256, 1024}, {0, 1}})
    ->ArgNames({"N", "decode"})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
