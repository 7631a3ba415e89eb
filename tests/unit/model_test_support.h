// Shared by the tests that load the real models or need scratch files: one loaded model per
// name for the whole executable (with f32 copies of the matrices, which the tests' own
// reference computations read), a skip naming the missing
// file, and one scratch folder per executable that is removed when the tests end.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/model/forward.h"

namespace test_support {

// The model `name` resolves to ("smollm2", "gemma3" or a path), or null when its file is missing.
inline std::shared_ptr<const core::model::Model> shared_model(const std::string& name) {
  static std::map<std::string, std::shared_ptr<const core::model::Model>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  const std::string path = core::model::resolve_model_path(name);
  struct stat st {};
  std::shared_ptr<const core::model::Model> m =
      stat(path.c_str(), &st) == 0 ? core::model::Model::load(path, 0, true) : nullptr;
  cache[name] = m;
  return m;
}

// A folder under /tmp named `prefix`_XXXXXX, made on first use and removed after the tests.
inline const std::string& scratch_dir(const char* prefix) {
  static std::string dir;
  if (dir.empty()) {
    std::string tmpl = std::string("/tmp/") + prefix + "_XXXXXX";
    dir = mkdtemp(tmpl.data());
    struct Cleanup : ::testing::Environment {
      void TearDown() override { std::filesystem::remove_all(dir); }
    };
    ::testing::AddGlobalTestEnvironment(new Cleanup);
  }
  return dir;
}

// Run options that capture attention, on 2 threads, for variant v.
inline core::model::RunOptions capture_options(const core::ModelVariant& v) {
  core::model::RunOptions o;
  o.variant = v;
  o.n_threads = 2;
  o.capture.attention = true;
  return o;
}

// n token ids spread over the vocabulary (a prompt that needs no tokenizer).
inline std::vector<int32_t> synthetic_ids(const core::model::Model& m, int n) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i)
    ids.push_back(static_cast<int32_t>((i * 7919 + 13) % m.config().vocab));
  return ids;
}

}  // namespace test_support

#define NEED_MODEL(var, name)                                              \
  auto var = test_support::shared_model(name);                             \
  if (!var)                                                                \
    GTEST_SKIP() << "model file " << core::model::resolve_model_path(name) \
                 << " is missing (run scripts/setup; it downloads the models from PyPI)";
