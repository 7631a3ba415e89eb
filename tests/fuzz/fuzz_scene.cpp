// libFuzzer target: bytes -> scene JSON reader (types, ranges, nesting cap) -> the scene
// written back and read again -> the KV-memory and head-group numbers. Inputs must end in a
// scene or a SceneError.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/scene/scene_json.h"
#include "core/views/head_groups.h"
#include "core/views/kv_memory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> warnings;
  try {
    const core::Scene s = core::scene_from_json_text(text, "fuzz.json", warnings);
    const std::string again = core::scene_to_json_text(s);
    (void)core::scene_from_json_text(again, "again.json", warnings);  // what we write, we read
    (void)core::build_kv_memory(s, 17);
    (void)core::build_head_groups(s);
  } catch (const core::SceneError&) {
  }
  return 0;
}
