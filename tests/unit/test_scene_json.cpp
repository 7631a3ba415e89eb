// Scene files: presets, overrides, round trips and every kind of bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/io/atomic_write.h"
#include "core/scene/presets.h"
#include "core/scene/scene_json.h"

namespace {

namespace fs = std::filesystem;

core::Scene parse(const std::string& text, std::vector<std::string>& warnings) {
  return core::scene_from_json_text(text, "test.json", warnings);
}

std::string error_of(const std::string& text) {
  std::vector<std::string> w;
  try {
    parse(text, w);
  } catch (const core::SceneError& e) {
    return e.what();
  }
  return "";
}

TEST(SceneJson, InvalidJsonNamesFileAndByte) {
  // {"a": 1,,}: the second comma is the 9th byte.
  const std::string msg = error_of(R"({"a": 1,,})");
  EXPECT_NE(msg.find("test.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte 9"), std::string::npos) << msg;
}

TEST(SceneJson, UnknownKeysWarn) {
  std::vector<std::string> w;
  const core::Scene s =
      parse(R"({"seq_len": 32, "query": 3, "colour": 1, "sparse": {"gobal": 2}})", w);
  EXPECT_EQ(s.seq_len, 32);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("sparse.gobal"), std::string::npos);
  EXPECT_NE(w[1].find("colour"), std::string::npos);
}

TEST(SceneJson, OutOfRangeIsRejectedNotClamped) {
  std::string msg = error_of(R"({"seq_len": 0})");
  EXPECT_NE(msg.find("'seq_len'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1..131072"), std::string::npos) << msg;
  msg = error_of(R"({"seq_len": 16, "query": 16})");
  EXPECT_NE(msg.find("'query'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("0..15"), std::string::npos) << msg;
  msg = error_of(R"({"batch": -1})");
  EXPECT_NE(msg.find("'batch'"), std::string::npos) << msg;
  msg = error_of(R"({"sparse": {"random": 1000}})");
  EXPECT_NE(msg.find("'sparse.random'"), std::string::npos) << msg;
}

TEST(SceneJson, SystemKeysReadWriteAndFailWithTheirName) {
  std::vector<std::string> w;
  const core::Scene s = parse(
      R"({"flash": {"sram_bytes": 233472, "version": 1},
          "paged": {"block": 7, "sequences": [9, 30], "prefix": 5},
          "mla": {"latent": 256, "rope_dim": 32}})",
      w);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(s.flash.sram_bytes, 233472);
  EXPECT_EQ(s.flash.version, 1);
  EXPECT_EQ(s.paged.block, 7);
  EXPECT_EQ(s.paged.sequences, (std::vector<int>{9, 30}));
  EXPECT_EQ(s.paged.prefix, 5);
  EXPECT_EQ(s.mla.latent, 256);
  EXPECT_EQ(s.mla.rope_dim, 32);
  const core::Scene back = parse(core::scene_to_json_text(s), w);
  EXPECT_EQ(back.paged.sequences, s.paged.sequences);
  EXPECT_EQ(back.flash.version, 1);
  EXPECT_EQ(back.mla.rope_dim, 32);
  struct Bad {
    const char* json;
    const char* key;
  };
  for (const Bad& b : {Bad{R"({"flash": {"version": 3}})", "'flash.version'"},
                       Bad{R"({"flash": {"sram_bytes": 10}})", "'flash.sram_bytes'"},
                       Bad{R"({"paged": {"block": 0}})", "'paged.block'"},
                       Bad{R"({"paged": {"sequences": []}})", "'paged.sequences (count)'"},
                       Bad{R"({"paged": {"sequences": [4, 2], "prefix": 3}})", "'paged.sequences'"},
                       Bad{R"({"paged": {"sequences": "12"}})", "'paged.sequences'"},
                       Bad{R"({"mla": {"latent": 0}})", "'mla.latent'"},
                       Bad{R"({"mla": {"rope_dim": -1}})", "'mla.rope_dim'"}}) {
    const std::string msg = error_of(b.json);
    EXPECT_NE(msg.find(b.key), std::string::npos) << b.json << " -> " << msg;
  }
}

TEST(SceneJson, KvHeadsMustDivideHeads) {
  const std::string msg = error_of(R"({"preset": "Llama-2-7B", "n_kv_heads": 5})");
  EXPECT_NE(msg.find("n_kv_heads"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not divide"), std::string::npos) << msg;
  EXPECT_NE(error_of(R"({"n_heads": 8, "n_kv_heads": 16})"), "");
  EXPECT_EQ(error_of(R"({"n_heads": 8, "n_kv_heads": 2, "head": 0})"), "");
}

TEST(SceneJson, WrongTypesAndEnums) {
  EXPECT_NE(error_of(R"({"seq_len": "64"})").find("expected an integer"), std::string::npos);
  EXPECT_NE(error_of(R"({"seq_len": 6.5})").find("expected an integer"), std::string::npos);
  const std::string msg = error_of(R"({"dtype": "int4"})");
  EXPECT_NE(msg.find("\"fp16\""), std::string::npos) << msg;
  EXPECT_NE(error_of(R"({"preset": "GPT-5"})").find("unknown preset"), std::string::npos);
  EXPECT_NE(error_of(R"([1, 2])").find("object"), std::string::npos);
}

TEST(SceneJson, PresetFillsAndKeysOverride) {
  std::vector<std::string> w;
  const core::Scene s = parse(R"({"preset": "Llama-2-70B", "n_kv_heads": 16, "head": 63})", w);
  EXPECT_EQ(s.n_layers, 80);
  EXPECT_EQ(s.n_heads, 64);
  EXPECT_EQ(s.n_kv_heads, 16);
  EXPECT_EQ(s.d_model, 8192);
  EXPECT_EQ(s.mask, attn::MaskKind::Causal);
  const core::Scene m = parse(R"({"preset": "Mistral-7B", "seq_len": 8192, "query": 0})", w);
  EXPECT_EQ(m.window, 4096);
  EXPECT_EQ(m.window_convention, attn::WindowConvention::SelfPlusPrevious);
  const core::Scene g = parse(R"({"preset": "Gemma-3-270M"})", w);
  EXPECT_EQ(g.global_every, 6);
  EXPECT_EQ(g.window, 512);
  EXPECT_EQ(g.window_convention, attn::WindowConvention::IncludingSelf);
  EXPECT_TRUE(w.empty());
}

TEST(SceneJson, RoundTripKeepsEveryField) {
  core::Scene s;
  core::apply_preset(s, "SmolLM2-135M");
  s.seq_len = 300;
  s.query = 299;
  s.mask = attn::MaskKind::Sparse;
  s.sparse = {2, 3, 4, 99};
  s.segments = {5, 6};
  s.variant.window_layers = {1, 2};
  s.variant.cache = core::CacheMode::Rolling;
  s.theme = "slides";
  s.title = "t";
  s.log_scale = true;
  std::vector<std::string> w;
  const core::Scene back = parse(core::scene_to_json_text(s), w);
  EXPECT_EQ(core::scene_to_json(back), core::scene_to_json(s));
  EXPECT_TRUE(w.empty());
}

TEST(SceneJson, SaveIsAtomicAndLoads) {
  const fs::path dir =
      fs::temp_directory_path() / ("attnlab_scene_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "s.json").string();
  core::Scene s;
  s.seq_len = 77;
  s.query = 10;
  core::save_scene(path, s);
  core::save_scene(path, s);  // replacing an existing file works too
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);  // no temporary left behind
  std::vector<std::string> w;
  EXPECT_EQ(core::load_scene(path, w).seq_len, 77);
  EXPECT_THROW(core::write_file_atomic((dir / "missing" / "x.json").string(), "{}"), core::IoError);
  try {
    core::write_file_atomic((dir / "missing" / "x.json").string(), "{}");
  } catch (const core::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("missing/x.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(core::load_scene((dir / "nope.json").string(), w), core::SceneError);
  fs::remove_all(dir);
}

TEST(SceneJson, ShippedScenesLoadCleanly) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(fs::path(ATTNLAB_ASSET_DIR) / "scenes")) {
    std::vector<std::string> w;
    EXPECT_NO_THROW(core::load_scene(e.path().string(), w)) << e.path();
    EXPECT_TRUE(w.empty()) << e.path() << ": " << (w.empty() ? "" : w[0]);
    ++n;
  }
  EXPECT_GE(n, 6);
}

TEST(SceneJson, MissingQueryFollowsTheLastPosition) {
  std::vector<std::string> w;
  EXPECT_EQ(parse(R"({"seq_len": 10})", w).query, 9);
  EXPECT_EQ(parse(R"({"seq_len": 10, "query": 4})", w).query, 4);
}

TEST(SceneJson, DefaultSceneIsValid) {
  EXPECT_NO_THROW(core::validate_scene(core::Scene{}));
}

}  // namespace

namespace {

// Any input either loads as a valid scene or fails with a SceneError: never another exception,
// never a scene that validate_scene would reject.
TEST(SceneJson, MutatedFilesFailCleanly) {
  const std::string base = core::scene_to_json_text(core::Scene{});
  std::mt19937 rng(2024);
  const char alphabet[] = "{}[]\":,-0123456789.eE truefalsnul\\x";
  int loaded = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text = base;
    for (int m = 1 + static_cast<int>(rng() % 4); m > 0; --m) {
      const size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[at] = alphabet[rng() % (sizeof alphabet - 1)];
          break;
        case 1:
          text.erase(at, 1 + rng() % 8);
          break;
        default:
          text.insert(at, 1, alphabet[rng() % (sizeof alphabet - 1)]);
          break;
      }
    }
    std::vector<std::string> w;
    try {
      const core::Scene s = core::scene_from_json_text(text, "fuzz.json", w);
      EXPECT_NO_THROW(core::validate_scene(s));
      ++loaded;
    } catch (const core::SceneError&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "unexpected exception " << e.what() << " for:\n" << text;
    }
  }
  EXPECT_GT(loaded, 0);
}

}  // namespace
