// Forward-pass speed on the real models (issue 3, "Speed"):
//   Prefill/<model>       N = 256 prompt tokens in one pass          -> tokens_per_s
//   Prefill512/<model>    N = 512 prompt tokens in one pass          -> tokens_per_s
//   Prefill512Draft/<model>/<int8|bf16>  the same with the live views' draft precisions
//   DecodeFull/<model>    one token at context 512 with the full cache -> tokens_per_s
//   DecodeNone/<model>    one token at context 512 with cache `none`   -> tokens_per_s
// Each also reports tokens_per_cpu_s (tokens per CPU-second of the whole process, the
// figure to compare on a loaded machine) and peak_rss_MB (VmHWM of the whole process,
// so run one model per process: --benchmark_filter=smollm2). Attention capture is off: this
// measures the runtime, not the views. Threads: ATTNLAB_BENCH_THREADS (default: all cores). The
// prompt is tests/bench/prompt.txt repeated until it has enough tokens;
// tests/bench/compare_transformers.py feeds transformers the same text.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/attention/parallel_for.h"
#include "core/model/forward.h"
#include "core/model/tokenizer_gguf.h"

namespace {

using core::model::Model;

constexpr int kPrefillTokens = 256;
constexpr int kDecodeContext = 512;

// CPU seconds of the whole process (all threads). On a shared, loaded machine wall time
// measures the neighbours too; CPU time measures the work.
double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

// VmHWM of /proc/self/status, this process image's own peak: ru_maxrss also counts the
// parent's RSS at fork (Linux keeps it across exec), so a large parent inflated it.
double peak_rss_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // in kB
  return 0.0;
}

int bench_threads() {
  const char* env = std::getenv("ATTNLAB_BENCH_THREADS");
  return env && *env ? std::atoi(env) : 0;
}

struct Loaded {
  std::shared_ptr<const Model> model;
  std::vector<int32_t> ids;  // at least kDecodeContext + 1 tokens of the bench prompt
};

// Loads once per process; null when the model file is missing.
const Loaded* loaded(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Loaded>> cache;
  auto& slot = cache[name];
  if (slot) return slot.get();
  const std::string path = core::model::resolve_model_path(name);
  if (!std::filesystem::exists(path)) return nullptr;
  slot = std::make_unique<Loaded>();
  slot->model = Model::load(path, bench_threads());
  std::ifstream f(std::string(ATTNLAB_BENCH_DIR) + "/prompt.txt");
  std::stringstream ss;
  ss << f.rdbuf();
  const core::model::Tokenizer tok = core::model::load_tokenizer(slot->model->gguf());
  std::string text;
  while (static_cast<int>(tok.encode(text).size()) <= kDecodeContext + 1) text += ss.str();
  slot->ids = tok.encode(text);
  return slot.get();
}

core::model::RunOptions options(core::CacheMode cache) {
  core::model::RunOptions o;
  o.variant.cache = cache;
  o.capture.attention = false;
  o.capture.cache = false;
  o.n_threads = bench_threads();
  return o;
}

void report(benchmark::State& state, double tokens, double cpu_s) {
  state.counters["tokens_per_s"] = benchmark::Counter(tokens, benchmark::Counter::kIsRate);
  state.counters["tokens_per_cpu_s"] = tokens / cpu_s;
  state.counters["peak_rss_MB"] = peak_rss_mb();
  state.counters["threads"] = core::default_threads();
  if (bench_threads() > 0) state.counters["threads"] = bench_threads();
}

// n_tokens in one pass; a draft precision is what the live views' draft passes run
// (qgemm_int8 / qgemm_bf16).
void BM_Prefill(benchmark::State& state, const std::string& name, int n_tokens,
                core::model::Precision precision) {
  const Loaded* l = loaded(name);
  if (!l) return state.SkipWithError("model not downloaded (run scripts/setup)");
  const std::vector<int32_t> ids(l->ids.begin(), l->ids.begin() + n_tokens);
  core::model::RunOptions o = options(core::CacheMode::Full);
  o.precision = precision;
  core::model::Session s(l->model, o);
  // The int8 draft packs W's panels on its first products and keeps them (as the live views'
  // draft session does after its first pass): that pass is not timed.
  if (precision == core::model::Precision::DraftInt8) s.prefill(ids);
  const double cpu0 = process_cpu_s();
  for (auto _ : state) {
    state.PauseTiming();
    s.reset();
    state.ResumeTiming();
    benchmark::DoNotOptimize(s.prefill(ids));
  }
  report(state, static_cast<double>(n_tokens) * state.iterations(), process_cpu_s() - cpu0);
}

// Decodes one token at a time after a prompt of kDecodeContext - 1 tokens, so the first timed
// token sits at context 512; later iterations run at 513, 514, ... (few iterations).
void BM_Decode(benchmark::State& state, const std::string& name, core::CacheMode cache) {
  const Loaded* l = loaded(name);
  if (!l) return state.SkipWithError("model not downloaded (run scripts/setup)");
  const std::vector<int32_t> prompt(l->ids.begin(), l->ids.begin() + kDecodeContext - 1);
  core::model::Session s(l->model, options(cache));
  s.reserve(1024);  // llama.cpp's side allocates its n_ctx = 1024 before timing, too
  s.prefill(prompt);
  int next = kDecodeContext - 1;
  const double cpu0 = process_cpu_s();
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.decode(l->ids[next % l->ids.size()]));
    ++next;
  }
  report(state, static_cast<double>(state.iterations()), process_cpu_s() - cpu0);
}

void register_all() {
  for (const std::string name : {"smollm2", "gemma3"}) {
    benchmark::RegisterBenchmark(("Prefill/" + name).c_str(), BM_Prefill, name, kPrefillTokens,
                                 core::model::Precision::Exact)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("Prefill512/" + name).c_str(), BM_Prefill, name, kDecodeContext,
                                 core::model::Precision::Exact)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3)
        ->UseRealTime();
    for (auto [tag, p] : {std::pair{"int8", core::model::Precision::DraftInt8},
                          std::pair{"bf16", core::model::Precision::DraftBf16}})
      benchmark::RegisterBenchmark(("Prefill512Draft/" + name + "/" + tag).c_str(), BM_Prefill,
                                   name, kDecodeContext, p)
          ->Unit(benchmark::kMillisecond)
          ->Iterations(3)
          ->UseRealTime();
    benchmark::RegisterBenchmark(("DecodeFull/" + name).c_str(), BM_Decode, name,
                                 core::CacheMode::Full)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(16)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("DecodeNone/" + name).c_str(), BM_Decode, name,
                                 core::CacheMode::None)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(2)
        ->UseRealTime();
  }
}

[[maybe_unused]] const bool registered = (register_all(), true);

}  // namespace
