// The machine's arithmetic peak on one core, measured, and the prefill GEMM against it:
//   Peak/fp32   AVX-512 (else AVX2) FMA on 12 independent accumulators  -> gflops_per_cpu_s
//   Peak/bf16   AVX512_BF16 vdpbf16ps (2 products a lane)                -> gflops_per_cpu_s
//   Peak/int8   AVX512_VNNI vpdpbusd (4 products a lane)                 -> gops_per_cpu_s
//   Qgemm/<type>/<rows>x<cols>  core/model/qgemm.h on random blocks, 512 rows of x, 1 thread
//   Peak/read/<threads>  memory read bandwidth, each thread streaming its own 256 MB -> gb_per_s
//                        (wall time: a decode step is bound by it, and it is the machine's,
//                        shared by the cores)
// Rates are per CPU-second of the timing thread: on a shared machine wall time measures the
// neighbours too. A peak the CPU lacks reports "skipped". scripts/bench divides the two.
// GCC 12's AVX-512 headers warn about their own _mm512_undefined_*() values.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <immintrin.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/model/qgemm.h"
#include "tests/bench/blas_setup.h"

namespace {

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

constexpr long kIters = 1 << 22;

// Each returns a value so the loop is not removed; 12 chains hide the 4-cycle latency on
// two ports.
__attribute__((target("avx512f"))) float fma_loop(long n) {
  __m512 acc[12];
  for (int j = 0; j < 12; ++j) acc[j] = _mm512_set1_ps(static_cast<float>(j));
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
  for (long i = 0; i < n; ++i)
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  for (int j = 1; j < 12; ++j) acc[0] = _mm512_add_ps(acc[0], acc[j]);
  return _mm512_reduce_add_ps(acc[0]);
}

__attribute__((target("avx512f,avx512bf16"))) float bf16_loop(long n) {
  __m512 acc[12];
  for (int j = 0; j < 12; ++j) acc[j] = _mm512_set1_ps(static_cast<float>(j));
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80);  // 1.0 in bf16
  const __m512bh b = (__m512bh)_mm512_set1_epi16(0x3a83);  // ~1e-3
  for (long i = 0; i < n; ++i)
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) acc[j] = _mm512_dpbf16_ps(acc[j], a, b);
  for (int j = 1; j < 12; ++j) acc[0] = _mm512_add_ps(acc[0], acc[j]);
  return _mm512_reduce_add_ps(acc[0]);
}

__attribute__((target("avx512f,avx512vnni"))) int int8_loop(long n) {
  __m512i acc[12];
  for (int j = 0; j < 12; ++j) acc[j] = _mm512_set1_epi32(j);
  const __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(2);
  for (long i = 0; i < n; ++i)
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);
  for (int j = 1; j < 12; ++j) acc[0] = _mm512_add_epi32(acc[0], acc[j]);
  return _mm512_reduce_add_epi32(acc[0]);
}

// ops a loop iteration does: 12 vectors x 16 lanes x (2 per FMA | 4 per bf16 pair | 8 per int8
// quad)
void BM_Peak(benchmark::State& state, const std::string& kind) {
  const bool ok = kind == "fp32"   ? __builtin_cpu_supports("avx512f")
                  : kind == "bf16" ? __builtin_cpu_supports("avx512bf16")
                                   : __builtin_cpu_supports("avx512vnni");
  if (!ok) return state.SkipWithError(("no AVX-512 " + kind + " on this CPU").c_str());
  const double per_iter = 12.0 * 16 * (kind == "fp32" ? 2 : kind == "bf16" ? 4 : 8);
  double cpu = 0, ops = 0;
  for (auto _ : state) {
    const double t0 = thread_cpu_s();
    if (kind == "fp32") benchmark::DoNotOptimize(fma_loop(kIters));
    if (kind == "bf16") benchmark::DoNotOptimize(bf16_loop(kIters));
    if (kind == "int8") benchmark::DoNotOptimize(int8_loop(kIters));
    cpu += thread_cpu_s() - t0;
    ops += per_iter * kIters;
  }
  state.counters[kind == "int8" ? "gops_per_cpu_s" : "gflops_per_cpu_s"] = ops / cpu * 1e-9;
}

// Reads n words and folds them (xor, which the compiler vectorizes and which costs less than
// the load), so the loop runs at the memory's speed.
uint64_t read_all(const uint64_t* p, size_t n) {
  uint64_t acc = 0;
  for (size_t i = 0; i < n; ++i) acc ^= p[i];
  return acc;
}

void BM_ReadBandwidth(benchmark::State& state, int threads) {
  constexpr size_t kWords = (256u << 20) / sizeof(uint64_t);  // 256 MB a thread, past any cache
  std::vector<std::vector<uint64_t>> bufs(threads);
  for (int t = 0; t < threads; ++t) bufs[t].assign(kWords, static_cast<uint64_t>(t) + 1);
  std::vector<uint64_t> sink(threads);
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { sink[t] = read_all(bufs[t].data(), kWords); });
    for (std::thread& th : pool) th.join();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(sink.data());
  }
  state.counters["gb_per_s"] = static_cast<double>(threads) * kWords * sizeof(uint64_t) *
                               static_cast<double>(state.iterations()) / seconds * 1e-9;
}

void BM_Qgemm(benchmark::State& state, core::model::TensorType type, int rows, int cols) {
  core::model::TypeTraits tt;
  core::model::tensor_type_traits(static_cast<uint32_t>(type), &tt);
  std::mt19937 rng(1);
  std::vector<uint8_t> blocks(static_cast<size_t>(rows) * cols / tt.block_elems * tt.block_bytes);
  for (auto& b : blocks) b = static_cast<uint8_t>(rng() & 0x3b);  // f16 scales stay small
  core::model::QuantMatrix w;
  w.type = type;
  w.rows = rows;
  w.cols = cols;
  w.block_elems = tt.block_elems;
  w.row_bytes = blocks.size() / rows;
  w.data = blocks.data();
  constexpr int kT = 512;
  std::vector<float> x(static_cast<size_t>(kT) * cols, 0.5f), y(static_cast<size_t>(kT) * rows);
  core::model::ThreadPool pool(1);
  double cpu = 0;
  for (auto _ : state) {
    const double t0 = thread_cpu_s();
    core::model::qgemm(w, x.data(), kT, y.data(), pool);
    cpu += thread_cpu_s() - t0;
  }
  state.counters["gflops_per_cpu_s"] =
      2.0 * kT * rows * cols * static_cast<double>(state.iterations()) / cpu * 1e-9;
}

// OpenBLAS sgemm on an f32 copy of the same shape (what prefill ran before), 1 thread.
void BM_Sgemm(benchmark::State& state, int rows, int cols) {
  constexpr int kT = 512;
  std::vector<float> w(static_cast<size_t>(rows) * cols, 0.01f);
  std::vector<float> x(static_cast<size_t>(kT) * cols, 0.5f), y(static_cast<size_t>(kT) * rows);
  bench::tune_openblas();  // its AVX-512 / AVX2 kernels, not Debian's SSE3 fallback
  openblas_set_num_threads(1);
  double cpu = 0;
  for (auto _ : state) {
    const double t0 = thread_cpu_s();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kT, rows, cols, 1.0f, x.data(), cols,
                w.data(), cols, 0.0f, y.data(), rows);
    cpu += thread_cpu_s() - t0;
  }
  state.counters["gflops_per_cpu_s"] =
      2.0 * kT * rows * cols * static_cast<double>(state.iterations()) / cpu * 1e-9;
}

void register_all() {
  benchmark::RegisterBenchmark("Sgemm/openblas/1536x576", BM_Sgemm, 1536, 576)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(3);
  benchmark::RegisterBenchmark("Sgemm/openblas/640x2048", BM_Sgemm, 640, 2048)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(3);
  for (const std::string kind : {"fp32", "bf16", "int8"})
    benchmark::RegisterBenchmark(("Peak/" + kind).c_str(), BM_Peak, kind)->Iterations(4);
  for (int threads : {1, 2})
    benchmark::RegisterBenchmark(("Peak/read/" + std::to_string(threads)).c_str(), BM_ReadBandwidth,
                                 threads)
        ->Iterations(4)
        ->UseRealTime();
  using core::model::TensorType;
  struct Shape {
    const char* name;
    TensorType type;
    int rows, cols;
  };
  for (const Shape& s :
       {Shape{"q4_1", TensorType::Q4_1, 1536, 576}, Shape{"q5_0", TensorType::Q5_0, 2048, 640},
        Shape{"q4_k", TensorType::Q4_K, 640, 2048}, Shape{"q6_k", TensorType::Q6_K, 640, 2048},
        Shape{"q8_0", TensorType::Q8_0, 256, 640}})
    benchmark::RegisterBenchmark((std::string("Qgemm/") + s.name + "/" + std::to_string(s.rows) +
                                  "x" + std::to_string(s.cols))
                                     .c_str(),
                                 BM_Qgemm, s.type, s.rows, s.cols)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3);
}

[[maybe_unused]] const bool registered = (register_all(), true);

}  // namespace
