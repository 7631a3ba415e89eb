// `attnlab ppl --text FILE [model and variant flags]`: perplexity of the model on a text file,
// exp(mean negative log-likelihood of every token after the first), with the variant applied.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/cli/commands.h"
#include "core/cli/model_open.h"
#include "core/io/atomic_write.h"

namespace core::cli {
namespace {

constexpr const char* kUsage =
    "usage: attnlab ppl --text FILE [model and variant flags]\n"
    "  --text FILE               UTF-8 text to score (at most the model's context)\n";

// -log softmax(row)[target], in double so long texts do not lose the small terms.
double nll(const float* row, int vocab, int32_t target) {
  const float mx = *std::max_element(row, row + vocab);
  double sum = 0;
  for (int i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(row[i]) - mx);
  return std::log(sum) + mx - row[target];
}

int ppl(int argc, char** argv) {
  ModelFlags mf;
  std::string text_path;
  for (int i = 1; i < argc; ++i) {
    if (parse_model_flag(argc, argv, i, mf)) continue;
    if (!take_value(argc, argv, i, "--text", &text_path))
      throw UsageError(std::string("unknown argument '") + argv[i] + "'");
  }
  if (text_path.empty()) throw UsageError("--text FILE is required");
  reject_segments(mf.variant, "ppl");
  const std::string text = read_file(text_path);

  OpenModel om = open_model(mf);
  const model::Config& c = om.model->config();
  const std::vector<int32_t> ids = om.tokenizer.encode(text, true);
  const int n = static_cast<int>(ids.size());
  if (n < 2)
    throw IoError(text_path + ": needs at least 2 tokens to score, has " + std::to_string(n));
  if (n > c.context_length)
    throw IoError(text_path + ": " + std::to_string(n) + " tokens exceed the model's context of " +
                  std::to_string(c.context_length));

  model::Session s(om.model, run_options(mf));
  const auto t0 = std::chrono::steady_clock::now();
  double total = 0;
  // Long texts go in pieces so their logits stay bounded; the session keeps its cache between.
  const int piece_len = logits_piece(mf.variant, c.vocab, n - 1);
  for (int p0 = 0; p0 < n - 1; p0 += piece_len) {
    // Positions p0..p1-1 predict tokens p0+1..p1; the last token is never fed.
    const int p1 = std::min(n - 1, p0 + piece_len);
    const std::vector<int32_t> piece(ids.begin() + p0, ids.begin() + p1);
    const std::vector<float> logits = s.prefill(piece, true);  // [p1-p0, vocab]
    for (int t = p0; t < p1; ++t)
      total += nll(logits.data() + static_cast<size_t>(t - p0) * c.vocab, c.vocab, ids[t + 1]);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double mean = total / (n - 1);
  std::printf("model: %s\n", om.model->path().c_str());
  std::printf("variant: %s\n", describe_variant(mf.variant, c).c_str());
  std::printf("tokens: %d (%d scored)\n", n, n - 1);
  std::printf("mean nll: %.6f nats/token\n", mean);
  std::printf("perplexity: %.4f\n", std::exp(mean));
  std::printf("time: %.2f s (%.1f tok/s)\n", secs, (n - 1) / std::max(secs, 1e-9));
  return 0;
}

}  // namespace

int cmd_ppl(int argc, char** argv) {
  return guard_command("ppl", kUsage, argc, argv, [&] { return ppl(argc, argv); });
}

}  // namespace core::cli
