// `attnlab dump --prompt P [--layers 0,3 --heads 0,1] --out F.json [model and variant flags]`:
// one prefill, written as JSON: token ids and texts, the top-10 logits at every position and
// the attention probabilities of the chosen layers and heads (schema in the usage text below).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>

#include "core/cli/commands.h"
#include "core/cli/model_open.h"
#include "core/io/atomic_write.h"

namespace core::cli {
namespace {

constexpr const char* kUsage =
    "usage: attnlab dump --prompt P --out F.json [--layers L,.. --heads H,..] [model and variant "
    "flags]\n"
    "  --prompt P                text to run (one prefill)\n"
    "  --out F.json              where to write (atomically)\n"
    "  --layers L,..  --heads H,..  attention to keep (default: all; all layers and heads are\n"
    "                            limited to 1024 tokens, a chosen subset is not)\n"
    "  --segments N,N,..         pack prompts (see below); the lengths sum to the token count\n"
    "  JSON: {model, arch, variant, tokens[n], token_text[n], topk[n][10] {id, logit, text},\n"
    "         positions[n] (RoPE positions: restart at 0 in each --segments prompt),\n"
    "         attention{\"layer\": {\"head\": rows[n][q+1]}}}\n";

constexpr int kTopK = 10;

int dump(int argc, char** argv) {
  ModelFlags mf;
  std::string prompt, out_path, layers_arg, heads_arg;
  bool have_prompt = false;
  for (int i = 1; i < argc; ++i) {
    if (parse_model_flag(argc, argv, i, mf)) continue;
    if (take_value(argc, argv, i, "--prompt", &prompt)) {
      have_prompt = true;
    } else if (take_value(argc, argv, i, "--out", &out_path)) {
    } else if (take_value(argc, argv, i, "--layers", &layers_arg)) {
    } else if (take_value(argc, argv, i, "--heads", &heads_arg)) {
    } else {
      throw UsageError(std::string("unknown argument '") + argv[i] + "'");
    }
  }
  if (!have_prompt) throw UsageError("--prompt P is required");
  if (out_path.empty()) throw UsageError("--out F.json is required");

  OpenModel om = open_model(mf);
  const model::Config& c = om.model->config();
  model::RunOptions opts = run_options(mf);
  opts.capture.attention = true;
  if (!layers_arg.empty())
    opts.capture.layers = parse_int_list("--layers", layers_arg, 0, c.n_layers - 1);
  if (!heads_arg.empty())
    opts.capture.heads = parse_int_list("--heads", heads_arg, 0, c.n_heads - 1);

  const std::vector<int32_t> ids = om.tokenizer.encode(prompt, true);
  const int n = static_cast<int>(ids.size());
  if (n == 0) throw UsageError("--prompt encodes to no tokens");
  check_segments(mf.variant, n);
  if (n > c.context_length)
    throw UsageError("prompt has " + std::to_string(n) + " tokens; the model's context is " +
                     std::to_string(c.context_length));
  if (opts.capture.layers.empty() && opts.capture.heads.empty() && n > opts.capture.max_positions)
    throw UsageError("prompt has " + std::to_string(n) +
                     " tokens; every layer and head is kept "
                     "up to " +
                     std::to_string(opts.capture.max_positions) +
                     " tokens, so choose --layers and/or --heads");

  model::Session s(om.model, opts);

  nlohmann::ordered_json j;
  j["model"] = om.model->path();
  j["arch"] = model::arch_name(c.arch);
  const ModelVariant& v = mf.variant;
  j["variant"] = {{"window", v.window},
                  {"window_convention", window_convention_name(v.window_convention)},
                  {"window_layers", v.window_layers},
                  {"kv_heads", s.kv_heads()},
                  {"cache", cache_mode_name(v.cache)},
                  {"chunk", v.chunk},
                  {"segments", v.segments}};
  j["tokens"] = ids;
  nlohmann::ordered_json texts = nlohmann::ordered_json::array();
  for (int32_t id : ids) texts.push_back(om.tokenizer.token_text(id));
  j["token_text"] = std::move(texts);

  // Long prompts go in pieces so the logits held at once stay bounded (Gemma's vocabulary is
  // 262144 wide); the session keeps its cache and capture between pieces.
  nlohmann::ordered_json topk = nlohmann::ordered_json::array();
  std::vector<int32_t> order(c.vocab);
  const int top = std::min(kTopK, c.vocab);  // a vocabulary may be smaller than 10
  const int piece_len = logits_piece(mf.variant, c.vocab, n);
  std::vector<float> logits;  // [piece, vocab]
  for (int t = 0; t < n; ++t) {
    if (t % piece_len == 0) {
      const int end = std::min(n, t + piece_len);
      logits = s.prefill(std::vector<int32_t>(ids.begin() + t, ids.begin() + end), true);
    }
    const float* row = logits.data() + static_cast<size_t>(t % piece_len) * c.vocab;
    std::iota(order.begin(), order.end(), 0);
    // NaN ranks last, so the order stays strict even for a model whose weights hold NaN.
    auto key = [&](int32_t i) { return std::isnan(row[i]) ? -INFINITY : row[i]; };
    std::partial_sort(order.begin(), order.begin() + top, order.end(), [&](int32_t a, int32_t b) {
      return key(a) > key(b) || (key(a) == key(b) && a < b);
    });
    nlohmann::ordered_json pos = nlohmann::ordered_json::array();
    for (int r = 0; r < top; ++r)
      pos.push_back({{"id", order[r]},
                     {"logit", row[order[r]]},
                     {"text", om.tokenizer.token_text(order[r])}});
    topk.push_back(std::move(pos));
  }
  j["topk"] = std::move(topk);
  j["positions"] = s.capture().rope_positions;

  nlohmann::ordered_json att = nlohmann::ordered_json::object();
  for (const model::AttentionCapture& a : s.capture().attention) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (int q = 0; q < a.n; ++q) rows.push_back(std::vector<float>(a.row(q), a.row(q) + q + 1));
    att[std::to_string(a.layer)][std::to_string(a.head)] = std::move(rows);
  }
  j["attention"] = std::move(att);

  // Paths and token texts may hold bytes that are not UTF-8: written as U+FFFD.
  write_file_atomic(
      out_path, j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
  std::printf("dump: %d tokens, %zu (layer, head) attention maps -> %s\n", n,
              s.capture().attention.size(), out_path.c_str());
  return 0;
}

}  // namespace

int cmd_dump(int argc, char** argv) {
  return guard_command("dump", kUsage, argc, argv, [&] { return dump(argc, argv); });
}

}  // namespace core::cli
