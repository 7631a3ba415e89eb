// Lecture: an ordered playlist of scenes, each with a title and a caption, loaded from JSON.
// Presentation mode (F5) in the app and `attnlab export --lecture` both read it.
//
//   { "version": 1, "title": "Attention efficiency",
//     "scenes": [ { "title": "...", "caption": "...", "view": "mask",
//                   "scene": { ...Scene keys... } | "file": "relative/scene.json",
//                   "checks": { "mask.visible_pairs": 1234, ... } } ] }
//
// `checks` are numbers from `attnlab stats` that the caption quotes; a test recomputes them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/scene/scene.h"

namespace core {

struct LectureSlide {
  std::string title;
  std::string caption;
  Scene scene;                    // title/caption/view copied into it as well
  nlohmann::ordered_json checks;  // stats key (dotted path) -> expected value; may be empty
};

struct Lecture {
  int version = 1;
  std::string title;
  std::string path;  // where it was loaded from
  std::vector<LectureSlide> slides;
};

// Throws SceneError (scene_json.h) naming the file, the scene (index and title) and the key.
Lecture load_lecture(const std::string& path);

// Same, and appends "scenes[i] (\"Title\"): unknown key 'scene.foo' ignored" style warnings
// for keys the loader does not know (the plain overload drops them).
Lecture load_lecture(const std::string& path, std::vector<std::string>& warnings);

// Value of a dotted key ("mask.visible_pairs", "receptive_field.reach_per_layer.31") in a
// JSON object such as `attnlab stats` output; nullptr when a part is missing.
const nlohmann::ordered_json* find_dotted(const nlohmann::ordered_json& j, const std::string& key);

}  // namespace core
