// The model catalog (assets/models.json) is the one list of models: scripts/fetch_models, the
// CLI and the app read it. These tests check that the C++ reader and the download script see
// the same list, that the downloaded files are the ones the catalog names, that a bad catalog
// is an error naming the file, and that the asset-folder lookup follows ATTNLAB_ASSETS.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/io/assets.h"
#include "core/model/catalog.h"
#include "core/model/gguf.h"
#include "core/scene/presets.h"
#include "core/session/live_runs.h"
#include "tests/unit/model_test_support.h"

namespace {

using core::model::CatalogModel;
namespace fs = std::filesystem;

// Runs a shell command; returns its stdout and sets *rc to its exit status.
std::string run_shell(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int st = pclose(p);
  *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

std::string fetch_models_script() {
  return std::string(ATTNLAB_ASSET_DIR) + "/../scripts/fetch_models";
}

// Sets an environment variable for one scope.
struct ScopedEnv {
  std::string name;
  std::string old;
  bool had = false;
  ScopedEnv(const char* n, const std::string& value) : name(n) {
    const char* o = std::getenv(n);
    had = o != nullptr;
    if (had) old = o;
    setenv(n, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had)
      setenv(name.c_str(), old.c_str(), 1);
    else
      unsetenv(name.c_str());
  }
};

std::string write_catalog(const std::string& text) {
  const std::string dir = test_support::scratch_dir("attnlab_catalog");
  std::ofstream(dir + "/models.json") << text;
  return dir;
}

const char* kTinyCatalog = R"({"models": [{"name": "tiny", "file": "tiny-model.gguf",
  "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  "packages": ["tiny-pkg==1.0"], "preset": "SmolLM2-135M"}]})";

std::string parse_error(const std::string& text) {
  try {
    core::model::parse_model_catalog(text, "cat.json");
  } catch (const core::ModelError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ModelCatalog, FetchModelsListsTheCatalogTheCliReads) {
  int rc = -1;
  const std::string out = run_shell("bash '" + fetch_models_script() + "' --list", &rc);
  ASSERT_EQ(rc, 0) << out;
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(l);
  const std::vector<CatalogModel> cat = core::model::model_catalog();
  ASSERT_EQ(lines.size(), cat.size()) << out;
  for (size_t i = 0; i < cat.size(); ++i) {
    std::string pkgs;
    for (const std::string& p : cat[i].packages) pkgs += (pkgs.empty() ? "" : " ") + p;
    EXPECT_EQ(lines[i], cat[i].name + "|" + cat[i].file + "|" + cat[i].sha256 + "|" + pkgs);
  }
}

TEST(ModelCatalog, HoldsTheTwoSmallModelsWithRealPresets) {
  const std::vector<CatalogModel> cat = core::model::model_catalog();
  ASSERT_NE(core::model::find_catalog_model(cat, "smollm2"), nullptr);
  ASSERT_NE(core::model::find_catalog_model(cat, "gemma3"), nullptr);
  EXPECT_EQ(core::model::find_catalog_model(cat, "smollm2")->preset, "SmolLM2-135M");
  EXPECT_EQ(core::model::find_catalog_model(cat, "gemma3")->preset, "Gemma-3-270M");
  for (const CatalogModel& m : cat)
    EXPECT_NE(core::find_preset(m.preset), nullptr) << m.name << ": preset " << m.preset;
}

TEST(ModelCatalog, NamesResolveToTheCatalogFileInTheModelFolder) {
  for (const CatalogModel& m : core::model::model_catalog())
    EXPECT_EQ(core::model::resolve_model_path(m.name), core::model::model_dir() + "/" + m.file);
  EXPECT_EQ(core::model::resolve_model_path("dir/x.gguf"), "dir/x.gguf");
  EXPECT_EQ(core::model::resolve_model_path("x.gguf"), "x.gguf");
  EXPECT_EQ(core::model::resolve_model_path("not-a-catalog-name"), "not-a-catalog-name");
}

// The files scripts/fetch_models downloaded carry the catalog's names and hashes (sha256sum,
// not our code, computes the hash).
TEST(ModelCatalog, DownloadedFilesHaveTheCatalogNamesAndHashes) {
  int checked = 0;
  for (const CatalogModel& m : core::model::model_catalog()) {
    const std::string path = core::model::model_dir() + "/" + m.file;
    if (!fs::exists(path)) continue;
    int rc = -1;
    const std::string out = run_shell("sha256sum '" + path + "'", &rc);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_EQ(out.substr(0, 64), m.sha256) << path;
    ++checked;
  }
  if (checked == 0)
    GTEST_SKIP() << "no catalog model is downloaded in " << core::model::model_dir()
                 << " (run scripts/setup)";
}

TEST(ModelCatalog, BadCatalogsNameTheFileAndTheProblem) {
  EXPECT_NE(parse_error("{").find("cat.json: invalid JSON at byte"), std::string::npos);
  EXPECT_NE(parse_error("{\"models\": []}").find("at least one model"), std::string::npos);
  std::string t = kTinyCatalog;
  EXPECT_EQ(parse_error(t), "(no error)");
  std::string bad = t;
  bad.replace(bad.find("0123456789abcdef"), 16, "0123456789ABCDEF");
  EXPECT_NE(parse_error(bad).find("models[0]: 'sha256' must be 64 lowercase hex digits"),
            std::string::npos);
  bad = t;
  bad.replace(bad.find("\"tiny\""), 6, "\"my/tiny\"");
  EXPECT_NE(parse_error(bad).find("'name' \"my/tiny\" may hold only"), std::string::npos);
  bad = t;
  bad.replace(bad.find("\"file\""), 6, "\"fyle\"");
  EXPECT_NE(parse_error(bad).find("'file' must be a non-empty string"), std::string::npos);
  bad = t;
  const std::string pkgs = "[\"tiny-pkg==1.0\"]";
  bad.replace(bad.find(pkgs), pkgs.size(), "[]");
  EXPECT_NE(parse_error(bad).find("'packages' must be a non-empty list"), std::string::npos);
  const std::string entry = t.substr(t.find('{', 1), t.rfind(']') - t.find('{', 1));
  EXPECT_NE(parse_error("{\"models\": [" + entry + "," + entry + "]}").find("appears twice"),
            std::string::npos);
}

TEST(ModelCatalog, FollowsTheAssetFolderForCliAndScript) {
  const std::string dir = write_catalog(kTinyCatalog);
  ScopedEnv assets("ATTNLAB_ASSETS", dir);
  ScopedEnv models("ATTNLAB_MODELS", "/models-here");
  EXPECT_EQ(core::model::catalog_model_names(), std::vector<std::string>{"tiny"});
  EXPECT_EQ(core::model::resolve_model_path("tiny"), "/models-here/tiny-model.gguf");
  EXPECT_EQ(core::model::resolve_model_path("smollm2"), "smollm2");  // not in this catalog
  int rc = -1;
  EXPECT_EQ(run_shell("bash '" + fetch_models_script() + "' --list", &rc),
            "tiny|tiny-model.gguf|0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef|"
            "tiny-pkg==1.0\n");
  EXPECT_EQ(rc, 0);
  // The CLI's help lists the catalog's names, and a catalog name that is not downloaded says so.
  const std::string help = run_shell(std::string(ATTNLAB_BINARY) + " generate --help", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_NE(help.find("GGUF path, or tiny (assets/models.json"), std::string::npos) << help;
  const std::string gen =
      run_shell(std::string(ATTNLAB_BINARY) + " generate --model tiny --prompt hi -n 1 2>&1", &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(gen.find("/models-here/tiny-model.gguf: model 'tiny' is not downloaded"),
            std::string::npos)
      << gen;
}

TEST(ModelCatalog, MissingCatalogIsAnErrorNamingIt) {
  ScopedEnv assets("ATTNLAB_ASSETS", "/no/such/assets");
  try {
    core::model::model_catalog();
    FAIL() << "no error";
  } catch (const core::ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/assets/models.json"), std::string::npos)
        << e.what();
  }
  int rc = -1;
  run_shell("bash '" + fetch_models_script() + "' --list 2>/dev/null", &rc);
  EXPECT_EQ(rc, 1);
  const std::string gen = run_shell(
      std::string(ATTNLAB_BINARY) + " generate --model smollm2 --prompt hi -n 1 2>&1", &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(gen.find("/no/such/assets/models.json"), std::string::npos) << gen;
}

TEST(AssetFolder, OneLookupFollowsAttnlabAssets) {
  {
    ScopedEnv assets("ATTNLAB_ASSETS", "/elsewhere");
    EXPECT_EQ(core::asset_dir(), "/elsewhere");
    EXPECT_EQ(core::asset_path("texts/ppl.txt"), "/elsewhere/texts/ppl.txt");
    EXPECT_EQ(core::default_ppl_text_path(), "/elsewhere/texts/ppl.txt");
  }
  ScopedEnv assets("ATTNLAB_ASSETS", "");  // empty means unset
  EXPECT_EQ(core::asset_dir(), std::string(ATTNLAB_ASSET_DIR));
  EXPECT_TRUE(fs::exists(core::asset_path("models.json")));
  EXPECT_TRUE(fs::exists(core::asset_path("lectures/attention-efficiency.json")));
}

}  // namespace
