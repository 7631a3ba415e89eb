// `attnlab ppl --text FILE [model and variant flags]`: perplexity of the model on a text file,
// exp(mean negative log-likelihood of every token after the first), with the variant applied.
// `--draft int8|bf16` scores the text with the exact pass and a draft pass side by side and
// prints how far the draft is from the exact one. Under --sparse it also prints the pairs the
// pattern saves and the perplexity without it.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "core/cli/commands.h"
#include "core/cli/model_open.h"
#include "core/io/atomic_write.h"
#include "core/model/qgemm_int8.h"
#include "core/views/mask_grid.h"

namespace core::cli {
namespace {

constexpr const char* kUsage =
    "usage: attnlab ppl --text FILE [model and variant flags]\n"
    "  --text FILE               UTF-8 text to score (at most the model's context)\n"
    "  --draft int8|bf16         also score with a draft pass (int8: the live views' draft)\n"
    "                            and print its agreement with the exact pass\n";

// -log softmax(row)[target], in double so long texts do not lose the small terms.
double nll(const float* row, int vocab, int32_t target) {
  const float mx = *std::max_element(row, row + vocab);
  double sum = 0;
  for (int i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(row[i]) - mx);
  return std::log(sum) + mx - row[target];
}

// Mean negative log-likelihood of every token after the first under `v`, in pieces.
double mean_nll(const OpenModel& om, const ModelFlags& mf, const ModelVariant& v,
                const std::vector<int32_t>& ids) {
  ModelFlags f = mf;
  f.variant = v;
  const int vocab = om.model->config().vocab;
  const int n = static_cast<int>(ids.size());
  model::Session s(om.model, run_options(f));
  double total = 0;
  // Long texts go in pieces so their logits stay bounded; the session keeps its cache between.
  const int piece_len = logits_piece(v, vocab, n - 1);
  for (int p0 = 0; p0 < n - 1; p0 += piece_len) {
    // Positions p0..p1-1 predict tokens p0+1..p1; the last token is never fed.
    const int p1 = std::min(n - 1, p0 + piece_len);
    const std::vector<int32_t> piece(ids.begin() + p0, ids.begin() + p1);
    const std::vector<float> logits = s.prefill(piece, true);  // [p1-p0, vocab]
    for (int t = p0; t < p1; ++t)
      total += nll(logits.data() + static_cast<size_t>(t - p0) * vocab, vocab, ids[t + 1]);
  }
  return total / (n - 1);
}

// Under --sparse: the pairs the pattern computes on the text against dense causal, and the
// perplexity of the same run without the pattern (every other flag kept).
void print_sparse_cost(const OpenModel& om, const ModelFlags& mf, const std::vector<int32_t>& ids,
                       double sparse_ppl) {
  const ModelVariant& v = mf.variant;
  Scene s;  // the text as a sparse scene: the count `attnlab stats` prints as sparse.visible_pairs
  s.seq_len = static_cast<int>(ids.size());
  s.mask = attn::MaskKind::Sparse;
  s.sparse = {v.sparse_global, v.sparse_local, v.sparse_random, v.sparse_seed};
  const int64_t pairs = count_visible_pairs(s);
  const int64_t dense = static_cast<int64_t>(s.seq_len) * (s.seq_len + 1) / 2;
  ModelVariant d = v;
  d.sparse_global = d.sparse_local = d.sparse_random = 0;
  const double dense_ppl = std::exp(mean_nll(om, mf, d, ids));
  std::printf("sparse pairs: %lld of %lld dense causal (%.2f%%) per layer and head\n",
              static_cast<long long>(pairs), static_cast<long long>(dense),
              100.0 * static_cast<double>(pairs) / static_cast<double>(dense));
  std::printf("perplexity without the sparse pattern: %.4f\n", dense_ppl);
  std::printf("sparse vs dense: %.4f vs %.4f (x%.3f)\n", sparse_ppl, dense_ppl,
              sparse_ppl / dense_ppl);
}

// The ids of the k largest logits, largest first.
std::vector<int32_t> top_ids(const float* row, int vocab, int k) {
  std::vector<int32_t> ids(vocab);
  for (int i = 0; i < vocab; ++i) ids[i] = i;
  std::partial_sort(ids.begin(), ids.begin() + k, ids.end(),
                    [&](int32_t a, int32_t b) { return row[a] > row[b]; });
  ids.resize(k);
  return ids;
}

// max over the vocabulary of |softmax(a) - softmax(b)|, in double.
double max_prob_diff(const float* a, const float* b, int vocab) {
  const float ma = *std::max_element(a, a + vocab), mb = *std::max_element(b, b + vocab);
  double sa = 0, sb = 0;
  for (int i = 0; i < vocab; ++i) {
    sa += std::exp(static_cast<double>(a[i]) - ma);
    sb += std::exp(static_cast<double>(b[i]) - mb);
  }
  double worst = 0;
  for (int i = 0; i < vocab; ++i)
    worst = std::max(worst, std::fabs(std::exp(static_cast<double>(a[i]) - ma) / sa -
                                      std::exp(static_cast<double>(b[i]) - mb) / sb));
  return worst;
}

// The draft pass against the exact one, position by position.
struct DraftAgreement {
  int positions = 0;
  int top1_same = 0;
  int top5_same = 0;  // the same five ids in the same order
  double max_dp = 0;  // max |Δp| of the next-token distribution
  double total_nll = 0;
  void see(const float* exact, const float* draft, int vocab, int32_t target) {
    ++positions;
    const std::vector<int32_t> a = top_ids(exact, vocab, 5), b = top_ids(draft, vocab, 5);
    top1_same += a[0] == b[0];
    top5_same += a == b;
    max_dp = std::max(max_dp, max_prob_diff(exact, draft, vocab));
    total_nll += nll(draft, vocab, target);
  }
};

int ppl(int argc, char** argv) {
  ModelFlags mf;
  std::string text_path;
  model::Precision draft = model::Precision::Exact;
  for (int i = 1; i < argc; ++i) {
    if (parse_model_flag(argc, argv, i, mf)) continue;
    std::string prec;
    if (take_value(argc, argv, i, "--draft", &prec)) {
      if (prec != "int8" && prec != "bf16")
        throw UsageError("--draft: expected int8 or bf16, got '" + prec + "'");
      draft = prec == "int8" ? model::Precision::DraftInt8 : model::Precision::DraftBf16;
      continue;
    }
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
  model::RunOptions dopts = run_options(mf);
  dopts.precision = draft;
  std::unique_ptr<model::Session> ds;
  if (draft != model::Precision::Exact) ds = std::make_unique<model::Session>(om.model, dopts);
  DraftAgreement agree;
  double draft_secs = 0;
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
    if (!ds) continue;
    const auto d0 = std::chrono::steady_clock::now();
    const std::vector<float> dl = ds->prefill(piece, true);
    draft_secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - d0).count();
    for (int t = p0; t < p1; ++t) {
      const size_t o = static_cast<size_t>(t - p0) * c.vocab;
      agree.see(logits.data() + o, dl.data() + o, c.vocab, ids[t + 1]);
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() - draft_secs;
  const double mean = total / (n - 1);
  std::printf("model: %s\n", om.model->path().c_str());
  std::printf("variant: %s\n", describe_variant(mf.variant, c).c_str());
  std::printf("tokens: %d (%d scored)\n", n, n - 1);
  std::printf("mean nll: %.6f nats/token\n", mean);
  std::printf("perplexity: %.4f\n", std::exp(mean));
  std::printf("time: %.2f s (%.1f tok/s)\n", secs, (n - 1) / std::max(secs, 1e-9));
  if (mf.variant.sparse_local > 0) print_sparse_cost(om, mf, ids, std::exp(mean));
  if (!ds) return 0;
  const double dmean = agree.total_nll / (n - 1);
  std::printf("draft: %s, path %s\n", model::precision_name(dopts.precision),
              draft == model::Precision::DraftInt8
                  ? model::int8_path_name(model::current_int8_path())
                  : model::draft_path_name(model::current_draft_path()));
  std::printf("draft perplexity: %.4f (%+.4f, %+.3f%%)\n", std::exp(dmean),
              std::exp(dmean) - std::exp(mean), 100.0 * (std::exp(dmean - mean) - 1.0));
  std::printf("draft top-1 agreement: %d / %d positions\n", agree.top1_same, agree.positions);
  std::printf("draft top-5 agreement (same ids, same order): %d / %d positions\n", agree.top5_same,
              agree.positions);
  std::printf("draft max |dp| of the next-token distribution: %.3g\n", agree.max_dp);
  std::printf("draft time: %.2f s (%.1f tok/s)\n", draft_secs,
              (n - 1) / std::max(draft_secs, 1e-9));
  return 0;
}

}  // namespace

int cmd_ppl(int argc, char** argv) {
  return guard_command("ppl", kUsage, argc, argv, [&] { return ppl(argc, argv); });
}

}  // namespace core::cli
