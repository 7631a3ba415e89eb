// libFuzzer target: bytes -> a lecture file (in a folder holding copies of the shipped scenes,
// so "file" references resolve) -> load_lecture. Inputs must end in a lecture or a SceneError.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/scene/lecture.h"
#include "core/scene/scene_json.h"

namespace {

std::string g_dir;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string tmpl = "/tmp/attnlab_fuzz_lecture_XXXXXX";
  g_dir = mkdtemp(tmpl.data());
  std::atexit([] { std::filesystem::remove_all(g_dir); });
  const char* assets = std::getenv("ATTNLAB_ASSETS");
  const std::filesystem::path scenes =
      std::filesystem::path(assets && *assets ? assets : ATTNLAB_ASSET_DIR) / "scenes";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(scenes, ec))
    std::filesystem::copy_file(e.path(), g_dir / e.path().filename(), ec);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = g_dir + "/lecture.json";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  std::vector<std::string> warnings;
  try {
    (void)core::load_lecture(path, warnings);
  } catch (const core::SceneError&) {
  }
  return 0;
}
