// The app holding a good model is asked to switch to a hostile one: a Gemma file whose byte
// token is spelled "<0x-9>" (it used to index out of bounds and take the app down), at a path
// that is not UTF-8 (the error quoting it used to abort --print-status). The app must keep the
// previous model, show the error, and print valid status JSON.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/io/atomic_write.h"
#include "core/model/forward.h"
#include "tests/unit/gguf_edit.h"

namespace {

namespace fs = std::filesystem;

TEST(AppBadModel, HostileGgufAtNonUtf8PathKeepsTheModel) {
  const std::string smol = core::model::resolve_model_path("smollm2");
  const std::string gemma = core::model::resolve_model_path("gemma3");
  if (!fs::exists(smol) || !fs::exists(gemma))
    GTEST_SKIP() << "models not downloaded (scripts/setup): " << smol << ", " << gemma;
  const fs::path dir =
      fs::temp_directory_path() / ("attnlab_bad_model_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string bad = (dir / "bad\xff.gguf").string();
  {
    const core::model::GgufFile f(gemma);
    test_support::GgufEdit e = test_support::GgufEdit::from(f);
    auto toks = e.strings("tokenizer.ggml.tokens");
    auto types = e.numbers<int32_t>("tokenizer.ggml.token_type");
    toks[300] = "<0x-9>";
    types[300] = 6;  // byte
    e.set_strings("tokenizer.ggml.tokens", toks);
    e.set_numbers("tokenizer.ggml.token_type", 5, types);
    e.write_sparse(bad);
  }
  const nlohmann::json scene = {{"version", 1},
                                {"preset", "custom"},
                                {"model", "smollm2"},
                                {"prompt", "Hello there, how are you?"},
                                {"theme", "dark"}};
  const std::string scene_path = (dir / "scene.json").string();
  core::write_file_atomic(scene_path, scene.dump(2));
  const std::string cmd = std::string(ATTNLAB_BINARY) + " --scene " + scene_path +
                          " --view live_attention --frames 3 --wait-idle --print-status" +
                          " --live-then-model '" + bad + "' 2>&1";
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p.get())) out += buf.data();
  const int rc = pclose(p.release());
  fs::remove_all(dir);
  ASSERT_EQ(rc, 0) << out;
  const size_t at = out.rfind("{\"started\"");
  ASSERT_NE(at, std::string::npos) << out;
  const nlohmann::json status = nlohmann::json::parse(out.substr(at), nullptr, false);
  ASSERT_FALSE(status.is_discarded()) << "status is not valid JSON: " << out.substr(at);
  const std::string err = status["error"];
  EXPECT_NE(err.find("tokenizer.ggml.tokens[300]"), std::string::npos) << err;
  EXPECT_NE(err.find("bad\xEF\xBF\xBD.gguf"), std::string::npos) << "path with U+FFFD: " << err;
  EXPECT_NE(status["model_path"].get<std::string>().find("SmolLM2"), std::string::npos);
  EXPECT_GT(status["tokens"].get<int>(), 0) << "the previous model's pass is still shown";
}

}  // namespace
