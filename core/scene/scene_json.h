// Scene <-> JSON. The schema (keys, ranges, defaults) is documented in README.md, "Scene
// files". Loading never clamps: a value outside its range is an error naming the key and the
// allowed range. Unknown keys are warnings, so newer files still open in older builds.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/scene/scene.h"

namespace core {

// Bad scene input: invalid JSON (message has the source name and byte offset), a wrong type,
// an out-of-range value, an unknown enum string or n_kv_heads not dividing n_heads.
struct SceneError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Builds a scene from JSON text: defaults, then the preset named by "preset" (if any), then
// every explicit key. `source` names the input in messages (a file name or "<string>").
// Unknown keys are appended to `warnings` as "unknown key 'sparse.foo' ignored".
Scene scene_from_json_text(std::string_view text, const std::string& source,
                           std::vector<std::string>& warnings);

// Same, from a parsed object.
Scene scene_from_json(const nlohmann::json& j, const std::string& source,
                      std::vector<std::string>& warnings);

// Reads and parses a file; file errors are SceneErrors too (the CLI exits 2 on them).
Scene load_scene(const std::string& path, std::vector<std::string>& warnings);

// Every field, so a saved file reloads to an identical scene.
nlohmann::ordered_json scene_to_json(const Scene& scene);  // keys in schema order
std::string scene_to_json_text(const Scene& scene);        // 2-space indent, trailing newline

// Atomic save (core/io/atomic_write.h). Throws IoError.
void save_scene(const std::string& path, const Scene& scene);

// Throws SceneError when any field is outside its range (the app validates slider edits
// through the same function, so the JSON and the UI agree on what is allowed).
void validate_scene(const Scene& scene);

// Largest seq_len a scene may ask for.
inline constexpr int kMaxSeqLen = 131072;

}  // namespace core
