// The real forward pass on each backend gives the CPU backend's logits and attention: the
// kernel emulator (the CUDA kernel's code path on the CPU) always, the CUDA backend when a
// device exists. Chunked prefill, a rolling cache, packed prompts (block-diagonal mask) and
// decode steps all go through the backends' AttentionCall, as in the app.
//
// Tolerances: a backend sums in its own order, so it is held to twice the float32 noise floor
// of the CPU backend on this machine, measured in the same test as the spread between two
// valid CPU orders of the same variant (one-shot prefill and token by token): two orders that
// each sit within the floor f of exact arithmetic differ by at most 2f. Layer 0 (bit-identical
// inputs on every backend) and all layers (rounding amplified through the residual stream)
// are checked against their own floors. A wrong mask or slot moves p by O(0.1).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/model/forward.h"
#include "kernels/kernel_emulator.h"
#if ATTNLAB_HAVE_CUDA
#include "kernels/cuda_backend.h"
#endif

namespace {

using core::model::Model;
using core::model::RunOptions;
using core::model::Session;

std::shared_ptr<const Model> model(const std::string& name) {
  static std::map<std::string, std::shared_ptr<const Model>> loaded;
  auto& m = loaded[name];
  const std::string path = core::model::resolve_model_path(name);
  if (!m && std::filesystem::exists(path)) m = Model::load(path);
  return m;
}

std::vector<int32_t> prompt(int n, int vocab) {
  std::vector<int32_t> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = 100 + (i * 7919 + 13) % std::min(vocab - 100, 30000);
  return ids;
}

struct Run {
  std::vector<float> logits;  // every prefill position, then each decode step
  core::model::Capture capture;
};

Run run(std::shared_ptr<const Model> m, core::ModelVariant v, std::shared_ptr<core::Backend> b,
        int n_prompt, int n_decode) {
  RunOptions o;
  o.variant = v;
  o.n_threads = 2;
  o.backend = std::move(b);
  Session s(m, o);
  const auto ids = prompt(n_prompt + n_decode, m->config().vocab);
  Run r;
  r.logits = s.prefill(std::vector<int32_t>(ids.begin(), ids.begin() + n_prompt), true);
  for (int i = 0; i < n_decode; ++i) {
    const auto l = s.decode(ids[n_prompt + i]);
    r.logits.insert(r.logits.end(), l.begin(), l.end());
  }
  r.capture = s.capture();
  return r;
}

// Largest differences between two runs: logits relative to max|logit| of a, attention
// probabilities over all layers and in layer 0 alone.
struct Spread {
  float logit_rel = 0, prob = 0, prob_layer0 = 0;
};

Spread spread(const Run& a, const Run& b) {
  EXPECT_EQ(a.logits.size(), b.logits.size());
  EXPECT_EQ(a.capture.attention.size(), b.capture.attention.size());
  Spread s;
  float mx = 0, worst = 0;
  for (float x : a.logits) mx = std::max(mx, std::fabs(x));
  for (size_t i = 0; i < a.logits.size() && i < b.logits.size(); ++i)
    worst = std::max(worst, std::fabs(a.logits[i] - b.logits[i]));
  s.logit_rel = worst / mx;
  for (size_t n = 0; n < a.capture.attention.size() && n < b.capture.attention.size(); ++n) {
    const auto& x = a.capture.attention[n].p;
    const auto& y = b.capture.attention[n].p;
    EXPECT_EQ(x.size(), y.size());
    float w = 0;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) w = std::max(w, std::fabs(x[i] - y[i]));
    s.prob = std::max(s.prob, w);
    if (a.capture.attention[n].layer == 0) s.prob_layer0 = std::max(s.prob_layer0, w);
  }
  return s;
}

void expect_within(const Spread& got, const Spread& floor, const std::string& what) {
  ASSERT_GT(floor.logit_rel, 0.0f) << what << ": the two CPU orders agree exactly; no floor";
  EXPECT_LE(got.logit_rel, 2 * floor.logit_rel) << what << ": max |Δlogit| / max|logit|";
  EXPECT_LE(got.prob, 2 * floor.prob) << what << ": max |Δp|";
  EXPECT_LE(got.prob_layer0, 2 * floor.prob_layer0) << what << ": max |Δp| in layer 0";
  std::printf("%s: |Δlogit| %.3g (floor %.3g), |Δp| %.3g (floor %.3g), layer 0 %.3g (floor %.3g)\n",
              what.c_str(), got.logit_rel, floor.logit_rel, got.prob, floor.prob, got.prob_layer0,
              floor.prob_layer0);
}

struct Variant {
  const char* name;
  core::ModelVariant v;
  int n_prompt, n_decode;
};

void check_model(const std::string& name, const std::vector<Variant>& variants) {
  auto m = model(name);
  if (!m) GTEST_SKIP() << "model not downloaded: " << core::model::resolve_model_path(name);
  std::vector<std::pair<std::string, std::shared_ptr<core::Backend>>> others;
  others.emplace_back("kernel-emulator", kernels::make_kernel_emulator_backend(2));
#if ATTNLAB_HAVE_CUDA
  if (kernels::probe_cuda().device_count > 0)
    others.emplace_back("cuda", std::make_shared<kernels::CudaBackend>(0, 2));
#endif
  for (const Variant& v : variants) {
    const Run cpu = run(m, v.v, core::make_cpu_backend(2), v.n_prompt, v.n_decode);
    core::ModelVariant one_shot = v.v, by_token = v.v;
    one_shot.chunk = 0;
    by_token.chunk = 1;
    const Spread floor =
        spread(run(m, one_shot, core::make_cpu_backend(2), v.n_prompt, v.n_decode),
               run(m, by_token, core::make_cpu_backend(2), v.n_prompt, v.n_decode));
    for (auto& [bname, b] : others)
      expect_within(spread(cpu, run(m, v.v, b, v.n_prompt, v.n_decode)), floor,
                    name + "/" + v.name + "/" + bname);
  }
}

TEST(BackendModel, SmolLM2MatchesCpuOnEveryBackend) {
  core::ModelVariant chunked;
  chunked.chunk = 16;
  core::ModelVariant rolling;
  rolling.window = 8;
  rolling.cache = core::CacheMode::Rolling;
  rolling.chunk = 5;
  rolling.window_convention = attn::WindowConvention::SelfPlusPrevious;
  core::ModelVariant packed;  // three prompts; the decode steps continue the last one
  packed.segments = {12, 17, 11};
  core::ModelVariant packed_window = rolling;  // the window applies inside each prompt
  packed_window.segments = {9, 14, 7};
  check_model("smollm2", {{"chunked", chunked, 40, 2},
                          {"rolling8", rolling, 30, 3},
                          {"packed", packed, 40, 2},
                          {"packed_rolling8", packed_window, 30, 2}});
}

TEST(BackendModel, Gemma3MatchesCpuOnEveryBackend) {
  core::ModelVariant chunked;  // native: window 512 on local layers, MQA, head_dim 256
  chunked.chunk = 10;
  core::ModelVariant packed = chunked;
  packed.segments = {7, 9, 8};
  check_model("gemma3", {{"chunked", chunked, 24, 1}, {"packed", packed, 24, 1}});
}

}  // namespace
