// Hostile inputs from issue 11 that are not model metadata: files read whole (/dev/zero, deep
// nesting), flags, exports and memory figures. Each one ends in a clean refusal (exit 2 with a
// message naming the file or flag) or in correct output, never a crash, UB or a huge allocation.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/io/atomic_write.h"
#include "core/model/config.h"
#include "core/model/forward.h"
#include "core/model/tokenizer.h"
#include "core/scene/lecture.h"
#include "core/scene/scene_json.h"
#include "core/views/kv_memory.h"
#include "tests/unit/gguf_edit.h"
#include "tests/unit/model_test_support.h"

namespace {

std::string scratch(const std::string& name) {
  return test_support::scratch_dir("attnlab_hostile") + "/" + name;
}

std::string write(const std::string& name, const std::string& text) {
  const std::string path = scratch(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

struct CliRun {
  int rc = -1;
  std::string out, err;
};

// Runs the attnlab binary with `args` (already quoted where needed).
CliRun attnlab(const std::string& args) {
  const std::string out = scratch("stdout"), err = scratch("stderr");
  const std::string cmd =
      std::string("'") + ATTNLAB_BINARY + "' " + args + " >'" + out + "' 2>'" + err + "'";
  const int st = std::system(cmd.c_str());
  CliRun r;
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::stringstream o, e;
  o << std::ifstream(out).rdbuf();
  e << std::ifstream(err).rdbuf();
  r.out = o.str();
  r.err = e.str();
  return r;
}

std::string nested(int depth) {
  return "{\"scenes\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
}

// ---- Tokenizer: byte-fallback spellings that used to index out of bounds or throw "stoi".
TEST(Hostile, ByteTokensOutOfRangeAreRefused) {
  for (const std::string bad : {"<0x-9>", "<0x-E>", "<0x-1>", "<0xZZ>", "<0x1G>", "<0x100"}) {
    core::model::TokenizerData d;
    d.model = "llama";
    d.arch = "gemma3";
    d.tokens = {"<unk>", "a", bad};
    d.token_types = {2, 1, 6};
    try {
      (void)core::model::Tokenizer::from_data(d);
      ADD_FAILURE() << bad << " accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("tokens[2] = '" + bad + "'"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(core::model::parse_byte_token("<0x41>"), 0x41);
  EXPECT_EQ(core::model::parse_byte_token("<0xff>"), 0xFF);
}

// ---- Files read whole: capped, so /dev/zero is refused instead of eating memory.
TEST(Hostile, DevZeroSceneAndLectureFileAreRefused) {
  std::vector<std::string> w;
  try {
    (void)core::load_scene("/dev/zero", w);
    ADD_FAILURE() << "/dev/zero loaded as a scene";
  } catch (const core::SceneError& e) {
    EXPECT_NE(std::string(e.what()).find("'/dev/zero' is larger than 16 MiB"), std::string::npos)
        << e.what();
  }
  const std::string lec =
      write("zero_lecture.json",
            R"({"version":1,"title":"t","scenes":[{"title":"a","file":"/dev/zero"}]})");
  try {
    (void)core::load_lecture(lec, w);
    ADD_FAILURE() << "a lecture naming /dev/zero loaded";
  } catch (const core::SceneError& e) {
    EXPECT_NE(std::string(e.what()).find("larger than 16 MiB"), std::string::npos) << e.what();
  }
  const CliRun r = attnlab("stats --scene /dev/zero");
  EXPECT_EQ(r.rc, 2) << r.err;
  EXPECT_NE(r.err.find("/dev/zero"), std::string::npos) << r.err;
}

TEST(Hostile, ReadFileCapIsExact) {
  const std::string path = write("cap.txt", std::string(1000, 'x'));
  EXPECT_EQ(core::read_file(path, 1000).size(), 1000u);
  EXPECT_THROW(core::read_file(path, 999), core::IoError);
}

// ---- JSON nesting: capped at parse time, so error messages never dump() a deep value.
TEST(Hostile, DeeplyNestedLectureAndSceneAreRefused) {
  std::vector<std::string> w;
  const std::string lec = write("deep_lecture.json", nested(200000));
  try {
    (void)core::load_lecture(lec, w);
    ADD_FAILURE() << "deep lecture loaded";
  } catch (const core::SceneError& e) {
    EXPECT_NE(std::string(e.what()).find(lec + ": JSON nested deeper than 64"), std::string::npos)
        << e.what();
  }
  try {
    (void)core::scene_from_json_text("{\"title\":" + std::string(100000, '[') + "}", "deep.json",
                                     w);
    ADD_FAILURE() << "deep scene loaded";
  } catch (const core::SceneError& e) {
    EXPECT_NE(std::string(e.what()).find("deep.json: JSON nested deeper"), std::string::npos)
        << e.what();
  }
  // 64 levels are still fine for the parser (the reader then names the wrong type).
  EXPECT_THROW((void)core::scene_from_json_text(
                   "{\"title\":" + std::string(63, '[') + std::string(63, ']') + "}", "ok.json", w),
               core::SceneError);
  const CliRun r = attnlab("export --lecture '" + lec + "' --out '" + scratch("deck") + "'");
  EXPECT_EQ(r.rc, 2) << r.err;
  EXPECT_NE(r.err.find("nested deeper"), std::string::npos) << r.err;
}

// Found by fuzz_scene: a number too large for a double is nlohmann's out_of_range, not a
// parse_error, and escaped the readers (exit 1, or the app's terminate).
TEST(Hostile, NumberOverflowIsAJsonError) {
  std::vector<std::string> w;
  try {
    (void)core::scene_from_json_text("{\"seq_len\": 8888888888888e888888}", "big_number.json", w);
    ADD_FAILURE() << "accepted";
  } catch (const core::SceneError& e) {
    EXPECT_NE(std::string(e.what()).find("big_number.json: invalid JSON"), std::string::npos)
        << e.what();
  }
  const std::string lec = write("big_number_lecture.json", "{\"version\": 1e999999}");
  EXPECT_THROW((void)core::load_lecture(lec, w), core::SceneError);
}

// ---- Export flags and sizes.
TEST(Hostile, ExportLiveViewOfAMissingModelZeroWidthAndHugePngs) {
  // A live view runs the scene's model headless: a model that is not there is exit 2 naming
  // it, and no file.
  const std::string live = write("live.json", R"({"version":1,"preset":"custom",
      "model":"/nonexistent/model.gguf","view":"live_attention"})");
  CliRun r = attnlab("export --scene '" + live + "' --out '" + scratch("live.png") + "'");
  EXPECT_EQ(r.rc, 2) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/model.gguf"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(scratch("live.png")));
  const std::string scene = write("plain.json", R"({"version":1,"preset":"Mistral-7B"})");
  r = attnlab("export --scene '" + scene + "' --width 0 --height 0 --out '" + scratch("w.png") +
              "'");
  EXPECT_EQ(r.rc, 2) << r.err;
  EXPECT_NE(r.err.find("--width and --height"), std::string::npos) << r.err;
  r = attnlab("export --scene '" + scene + "' --width 16384 --height 16384 --scale 2 --out '" +
              scratch("huge.png") + "'");
  EXPECT_EQ(r.rc, 2) << r.err;
  EXPECT_NE(r.err.find("is too large"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(scratch("huge.png")));
}

TEST(Hostile, UnknownWordIsAnUnknownCommand) {
  const CliRun r = attnlab("frobnicate");
  EXPECT_EQ(r.rc, 2) << r.err;
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("needs a value"), std::string::npos) << r.err;
}

// ---- Environment: a misspelt kernel-path cap would silently run (and test) another path.
TEST(Hostile, MisspeltKernelPathVariablesAreRefused) {
  for (const char* var : {"ATTNLAB_ISA", "ATTNLAB_DRAFT"}) {
    setenv(var, "sclar", 1);
    const CliRun r = attnlab("--help");
    unsetenv(var);
    EXPECT_EQ(r.rc, 2) << var << ": " << r.err;
    EXPECT_NE(r.err.find(std::string(var) + "=sclar"), std::string::npos) << r.err;
  }
  for (const auto& [var, value] :
       {std::pair{"ATTNLAB_ISA", "scalar"}, std::pair{"ATTNLAB_DRAFT", "emulated"}}) {
    setenv(var, value, 1);
    const CliRun r = attnlab("--help");
    unsetenv(var);
    EXPECT_EQ(r.rc, 0) << var << "=" << value << ": " << r.err;
  }
}

// ---- Memory figures: the largest scene in the documented ranges, in 128-bit arithmetic.
TEST(Hostile, KvMemoryFiguresDoNotOverflow) {
  std::vector<std::string> w;
  const char* big =
      R"({"version":1,"preset":"custom","n_layers":1024,"n_heads":1024,"n_kv_heads":1024,
          "head_dim":4096,"batch":65536,"seq_len":131072,"dtype":"fp32","window":1048576})";
  const core::Scene s = core::scene_from_json_text(big, "big.json", w);
  const core::KvMemorySeries m = core::build_kv_memory(s);
  // 2 * 1024 * 1024 * 4096 * 4 bytes * 65536 * 131072 = 2^68: past int64, so it saturates.
  EXPECT_EQ(m.bytes_full, INT64_MAX);
  EXPECT_EQ(m.bytes_per_token, int64_t{1} << 35);
  for (const core::KvCurve& c : m.curves) {  // an overflow would wrap negative somewhere
    EXPECT_GT(c.bytes.back(), 0.0) << c.label;
    for (size_t i = 1; i < c.bytes.size(); ++i) EXPECT_GE(c.bytes[i], c.bytes[i - 1]) << c.label;
  }
  // A scene just inside int64 stays exact: 2^35 per token * batch 2^10 * 2^17 tokens = 2^62.
  core::Scene t = s;
  t.batch = 1024;
  EXPECT_EQ(core::kv_bytes_full(t, t.seq_len, t.n_kv_heads), int64_t{1} << 62);
  const CliRun r = attnlab("stats --scene '" + write("big.json", big) + "'");
  ASSERT_EQ(r.rc, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kv_cache"]["bytes_full"].get<int64_t>(), INT64_MAX) << r.out.substr(0, 400);
}

// ---- Model subcommands.
TEST(Hostile, RollingCacheNeverExceedsTheContext) {
  NEED_MODEL(m, "smollm2");
  const core::model::Config& c = m->config();
  const CliRun r = attnlab("generate --prompt hi -n 2 --window 1048576 --cache rolling");
  ASSERT_EQ(r.rc, 0) << r.err;
  const size_t at = r.out.find("cache bytes: ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const int64_t bytes = std::stoll(r.out.substr(at + 13));
  // K and V, f32, every layer and KV head, at most one slot per position of the context.
  const int64_t bound = int64_t{2} * 4 * c.n_layers * c.n_kv_heads * c.head_dim * c.context_length;
  EXPECT_GT(bytes, 0);
  EXPECT_LE(bytes, bound);
}

TEST(Hostile, DumpWithATinyVocabularyAndANonUtf8Path) {
  const std::string src = core::model::resolve_model_path("smollm2");
  if (!std::filesystem::exists(src)) GTEST_SKIP() << src << " is missing (run scripts/setup)";
  // SmolLM2 cut to 8 tokens (zero weights in a sparse file), at a path that is not UTF-8.
  test_support::GgufEdit e = test_support::GgufEdit::from(core::model::GgufFile(src));
  auto toks = e.strings("tokenizer.ggml.tokens");
  auto types = e.numbers<int32_t>("tokenizer.ggml.token_type");
  toks.resize(8);
  types.resize(8);
  e.set_strings("tokenizer.ggml.tokens", toks);
  e.set_numbers("tokenizer.ggml.token_type", 5, types);
  e.erase("tokenizer.ggml.merges");
  e.tensor("token_embd.weight")->dims[1] = 8;
  const std::string path = scratch("tiny\xff.gguf"), out = scratch("dump.json");
  e.write_sparse(path);
  // Token 0 is the control token <|endoftext|>, matched whole in the text.
  const CliRun r = attnlab("dump --prompt '" + toks[0] + toks[0] + "' --model '" + path +
                           "' --threads 1 --out '" + out + "'");
  ASSERT_EQ(r.rc, 0) << r.err;
  std::stringstream ss;
  ss << std::ifstream(out).rdbuf();
  const nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << ss.str().substr(0, 300);
  ASSERT_EQ(j["topk"].size(), 2u);
  EXPECT_EQ(j["topk"][0].size(), 8u) << "top-k is the whole vocabulary when it has under 10";
}

}  // namespace
