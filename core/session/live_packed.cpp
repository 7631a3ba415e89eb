#include "core/session/live_packed.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace core {
namespace {

model::RunOptions logits_only(const ModelVariant& v, const LiveControl& ctl) {
  model::RunOptions o;
  o.variant = v;
  // Every position's logits are compared, so keep every key.
  if (o.variant.cache == CacheMode::Rolling || o.variant.cache == CacheMode::None)
    o.variant.cache = CacheMode::Full;
  o.capture.attention = false;
  o.capture.cache = false;
  o.n_threads = ctl.n_threads;
  o.cancel = ctl.cancel;
  return o;
}

// Next-token probabilities of one row of logits, in double.
std::vector<double> softmax(const float* row, int vocab) {
  const float mx = *std::max_element(row, row + vocab);
  std::vector<double> p(vocab);
  double sum = 0;
  for (int i = 0; i < vocab; ++i) sum += p[i] = std::exp(static_cast<double>(row[i]) - mx);
  for (double& x : p) x /= sum;
  return p;
}

}  // namespace

void fit_to_segments(std::vector<int32_t>& tokens, const std::vector<int>& segments, bool* cut) {
  if (segments.empty()) return;
  const int64_t sum = std::accumulate(segments.begin(), segments.end(), int64_t{0});
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n < sum)
    throw std::invalid_argument("packed prompts: the segments need " + std::to_string(sum) +
                                " tokens, but the prompt has " + std::to_string(n) +
                                " (lengthen the prompt or shorten 'segments')");
  if (n > sum) {
    tokens.resize(static_cast<size_t>(sum));
    *cut = true;
  }
}

LivePacked compare_packed(const std::shared_ptr<const model::Model>& m,
                          const std::vector<int32_t>& tokens, const ModelVariant& v,
                          const LiveControl& ctl) {
  const auto t0 = std::chrono::steady_clock::now();
  const int vocab = m->config().vocab;
  LivePacked r;
  r.segments = v.segments;
  model::Session packed(m, logits_only(v, ctl));
  const std::vector<float> all = packed.prefill(tokens, true);  // [n, vocab]
  ModelVariant alone = v;
  alone.segments.clear();
  size_t start = 0;
  for (int len : v.segments) {
    model::Session s(m, logits_only(alone, ctl));
    const std::vector<float> sep =
        s.prefill(std::vector<int32_t>(tokens.begin() + start, tokens.begin() + start + len), true);
    for (int t = 0; t < len; ++t) {
      const float* a = all.data() + (start + t) * vocab;
      const float* b = sep.data() + static_cast<size_t>(t) * vocab;
      for (int i = 0; i < vocab; ++i) {
        r.max_dlogit = std::max(r.max_dlogit, static_cast<double>(std::fabs(a[i] - b[i])));
        r.max_logit = std::max(r.max_logit, static_cast<double>(std::fabs(a[i])));
      }
      const std::vector<double> pa = softmax(a, vocab), pb = softmax(b, vocab);
      for (int i = 0; i < vocab; ++i) r.max_dp = std::max(r.max_dp, std::fabs(pa[i] - pb[i]));
    }
    start += len;
  }
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace core
