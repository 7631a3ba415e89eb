// Tokenizers against Hugging Face on golden strings (tests/golden/tokenizer.json, made by
// tests/golden/make_tokenizer_golden.py from the same GGUF files), plus model-free checks of
// the split rule, UTF-8 handling and bad input.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/model/gguf.h"
#include "core/model/pretokenize.h"
#include "core/model/tokenizer.h"
#include "core/model/tokenizer_gguf.h"
#include "core/model/unicode_ranges.h"

using core::model::Tokenizer;
using core::model::TokenizerData;

namespace {

const nlohmann::json& golden() {
  static const nlohmann::json doc = [] {
    std::ifstream f(std::string(ATTNLAB_GOLDEN_DIR) + "/tokenizer.json");
    EXPECT_TRUE(f.good()) << "missing tests/golden/tokenizer.json";
    return f.good() ? nlohmann::json::parse(f) : nlohmann::json::object();
  }();
  return doc;
}

std::string model_path(const std::string& name) {
  return std::string(ATTNLAB_MODEL_DIR) + "/" + golden()["models"][name]["file"].get<std::string>();
}

// Loaded once per model: the Gemma vocabulary has 262144 entries.
const TokenizerData* model_data(const std::string& name) {
  static std::map<std::string, std::unique_ptr<TokenizerData>> cache;
  auto& slot = cache[name];
  if (!slot && std::filesystem::exists(model_path(name))) {
    core::model::GgufFile f(model_path(name));
    slot = std::make_unique<TokenizerData>(core::model::tokenizer_data_from_gguf(f));
  }
  return slot.get();
}

#define REQUIRE_MODEL(name, data)               \
  const TokenizerData* data = model_data(name); \
  if (!data) GTEST_SKIP() << "model not downloaded: " << model_path(name);

std::vector<int32_t> ids_of(const nlohmann::json& j) {
  return j.get<std::vector<int32_t>>();
}

// Checks every golden string; `key` picks which reference ids to compare with.
void expect_encode_matches(const Tokenizer& tok, const std::string& model, const char* key) {
  int checked = 0;
  for (const auto& c : golden()["models"][model]["cases"]) {
    if (!c.contains(key)) continue;
    const std::string text = c["text"];
    EXPECT_EQ(tok.encode(text), ids_of(c[key])) << model << " text: \"" << text << "\"";
    ++checked;
  }
  EXPECT_GT(checked, 30);
}

void expect_decode_matches(const Tokenizer& tok, const std::string& model) {
  for (const auto& c : golden()["models"][model]["cases"]) {
    const std::string text = c["text"];
    EXPECT_EQ(tok.decode(ids_of(c["ids"])), c["decoded"].get<std::string>())
        << model << " text: \"" << text << "\"";
    // Where HF round-trips, so must we (without BOS so that the text comes back alone).
    const std::string expect_rt = tok.bos() >= 0 && !c["ids"].empty() && c["ids"][0] == tok.bos() &&
                                          c["ids_no_special"] != c["ids"]
                                      ? "<bos>" + text
                                      : text;
    if (c["decoded"] == expect_rt) {
      EXPECT_EQ(tok.decode(tok.encode(text, false)), text) << model << " round trip: " << text;
    }
    for (size_t k = 0; k < c["ids"].size(); ++k) {  // HF shows partial characters as U+FFFD
      const std::string piece = c["pieces"][k];
      if (piece.find("\xEF\xBF\xBD") != std::string::npos) continue;
      EXPECT_EQ(tok.token_text(c["ids"][k]), piece) << model << " id " << c["ids"][k];
    }
  }
}

}  // namespace

TEST(TokenizerSmolLM2, EncodeMatchesSmolLM2OwnPreTokenizer) {
  REQUIRE_MODEL("smollm2", data);
  ASSERT_EQ(data->model, "gpt2");
  ASSERT_EQ(data->pre, "smollm");
  const Tokenizer tok = Tokenizer::from_data(*data);
  EXPECT_EQ(tok.vocab_size(), 49152);
  expect_encode_matches(tok, "smollm2", "ids_digits");
}

TEST(TokenizerSmolLM2, EncodeMatchesTransformersGgufLoaderWithGpt2Split) {
  REQUIRE_MODEL("smollm2", data);
  TokenizerData d = *data;
  d.pre = "gpt2";  // what transformers builds from this GGUF: no digit pre-split
  expect_encode_matches(Tokenizer::from_data(std::move(d)), "smollm2", "ids");
}

TEST(TokenizerSmolLM2, Decode) {
  REQUIRE_MODEL("smollm2", data);
  expect_decode_matches(Tokenizer::from_data(*data), "smollm2");
}

TEST(TokenizerGemma3, Encode) {
  REQUIRE_MODEL("gemma3", data);
  ASSERT_EQ(data->model, "llama");
  const Tokenizer tok = Tokenizer::from_data(*data);
  EXPECT_EQ(tok.vocab_size(), 262144);
  EXPECT_EQ(tok.bos(), 2);
  expect_encode_matches(tok, "gemma3", "ids");
}

TEST(TokenizerGemma3, Decode) {
  REQUIRE_MODEL("gemma3", data);
  expect_decode_matches(Tokenizer::from_data(*data), "gemma3");
}

TEST(TokenizerSpeed, LoadAndEncode) {
  for (const std::string name : {"smollm2", "gemma3"}) {
    const TokenizerData* data = model_data(name);
    if (!data) GTEST_SKIP() << "model not downloaded: " << model_path(name);
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const Tokenizer tok = Tokenizer::from_data(*data);
    const auto t1 = clock::now();
    std::string text;
    for (const auto& c : golden()["models"][name]["cases"]) text += c["text"].get<std::string>();
    size_t n_tokens = 0;
    const int reps = 20;
    for (int r = 0; r < reps; ++r) n_tokens += tok.encode(text).size();
    const auto t2 = clock::now();
    const double load_s = std::chrono::duration<double>(t1 - t0).count();
    const double enc_s = std::chrono::duration<double>(t2 - t1).count();
    std::printf("%s: vocab %d built in %.3f s; encode %.0f tokens/s (%zu tokens per call)\n",
                name.c_str(), tok.vocab_size(), load_s, n_tokens / enc_s, n_tokens / reps);
    EXPECT_LT(load_s, 2.0);  // loose: the build machine is shared
    EXPECT_GT(n_tokens / enc_s, 1e5);
  }
}

// ---- model-free checks ---------------------------------------------------------------

std::vector<std::string> split(std::string_view text, bool digits) {
  std::vector<std::string_view> parts;
  core::model::split_gpt2(text, digits, parts);
  return {parts.begin(), parts.end()};
}

TEST(Gpt2Split, FollowsThePattern) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split("Hello world", false), (V{"Hello", " world"}));
  EXPECT_EQ(split("a  b", false), (V{"a", " ", " b"}));
  EXPECT_EQ(split("a  1", false), (V{"a", " ", " 1"}));
  EXPECT_EQ(split("a  1", true), (V{"a", "  ", "1"}));
  EXPECT_EQ(split("x 123", true), (V{"x", " ", "1", "2", "3"}));
  EXPECT_EQ(split("it's we'll", false), (V{"it", "'s", " we", "'ll"}));
  EXPECT_EQ(split("end  ", false), (V{"end", "  "}));
  EXPECT_EQ(split("a\n\nb", false), (V{"a", "\n", "\n", "b"}));  // "\n" is no " ?"
  EXPECT_EQ(split("f(x):", false), (V{"f", "(", "x", "):"}));
  EXPECT_EQ(split("caf\xC3\xA9 \xE4\xBD\xA0\xE5\xA5\xBD", false),
            (V{"caf\xC3\xA9", " \xE4\xBD\xA0\xE5\xA5\xBD"}));
  EXPECT_EQ(split("", false), V{});
}

TEST(Utf8, LossyReplacesMaximalInvalidPrefixes) {
  using core::model::unicode::utf8_lossy;
  EXPECT_EQ(utf8_lossy("ok \xE4\xBD\xA0"), "ok \xE4\xBD\xA0");
  EXPECT_EQ(utf8_lossy("\xE4\xBD"), "\xEF\xBF\xBD");
  EXPECT_EQ(utf8_lossy("\xE4\xBD"
                       "a"),
            "\xEF\xBF\xBD"
            "a");
  EXPECT_EQ(utf8_lossy("\xFF\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TokenizerData tiny_gpt2() {
  TokenizerData d;
  d.model = "gpt2";
  d.pre = "gpt2";
  uint32_t next = 256;  // GPT-2 spelling: unprintable bytes take code points from U+0100
  for (uint32_t b = 0; b < 256; ++b) {  // byte tokens, ids 0..255
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    std::string s;
    core::model::unicode::append_utf8(s, printable ? b : next++);
    d.tokens.push_back(s);
  }
  d.tokens.insert(d.tokens.end(), {"he", "ll", "hell", "hello", "\xC4\xA0hello", "<|end|>"});
  d.merges = {"h e", "l l", "he ll", "hell o", "\xC4\xA0 hello"};
  d.token_types.assign(d.tokens.size(), 1);
  d.token_types.back() = 3;
  return d;
}

TEST(TokenizerTiny, Gpt2MergesAndSpecials) {
  const Tokenizer tok = Tokenizer::from_data(tiny_gpt2());
  EXPECT_EQ(tok.encode("hello"), (std::vector<int32_t>{259}));
  EXPECT_EQ(tok.encode("hello hello<|end|>x"), (std::vector<int32_t>{259, 260, 261, 'x'}));
  EXPECT_EQ(tok.decode(tok.encode("hello hello<|end|>x")), "hello hello<|end|>x");
  EXPECT_EQ(tok.encode("helo"), (std::vector<int32_t>{256, 'l', 'o'}));
  EXPECT_EQ(tok.token_label(260), "\xE2\x90\xA3hello");
}

TEST(TokenizerTiny, SentencePieceMergesByScoreWithByteFallback) {
  TokenizerData d;
  d.model = "llama";
  d.tokens = {"<unk>",
              "<s>",
              "a",
              "b",
              "\xE2\x96\x81",
              "ab",
              "\xE2\x96\x81"
              "a",
              "<0xC3>",
              "<0xA9>"};
  d.scores = {0, 0, -5, -5, -5, -1, -2, 0, 0};
  d.token_types = {2, 3, 1, 1, 1, 1, 1, 6, 6};
  d.bos = 1;
  d.unk = 0;
  d.add_bos = true;
  const Tokenizer tok = Tokenizer::from_data(d);
  // "ab" (score -1) beats "▁a" (score -2), so " ab" is ▁ + ab; é has no token: its bytes.
  EXPECT_EQ(tok.encode(" ab\xC3\xA9"), (std::vector<int32_t>{1, 4, 5, 7, 8}));
  EXPECT_EQ(tok.decode({1, 4, 5, 7, 8}), "<s> ab\xC3\xA9");
  EXPECT_EQ(tok.token_text(7), "<0xC3>");

  // The prefix space goes before the start of the text only, not after a special token.
  d.add_space_prefix = true;
  const Tokenizer prefixed = Tokenizer::from_data(d);
  EXPECT_EQ(prefixed.encode("ab"), (std::vector<int32_t>{1, 4, 5}));
  EXPECT_EQ(prefixed.encode("<s>ab", false), (std::vector<int32_t>{1, 5}));
}

TEST(TokenizerTiny, BadDataIsReported) {
  TokenizerData d = tiny_gpt2();
  d.model = "wordpiece";
  EXPECT_THROW(Tokenizer::from_data(d), std::runtime_error);
  d = tiny_gpt2();
  d.token_types.pop_back();
  EXPECT_THROW(Tokenizer::from_data(d), std::runtime_error);
  d = tiny_gpt2();
  d.bos = 100000;
  EXPECT_THROW(Tokenizer::from_data(d), std::runtime_error);
  EXPECT_THROW(Tokenizer::from_data(TokenizerData{}), std::runtime_error);
}
