#include "core/scene/lecture.h"

#include <set>

#include "core/figure/view_registry.h"
#include "core/io/atomic_write.h"
#include "core/io/json_read.h"
#include "core/scene/scene_json.h"

namespace core {
namespace {

using nlohmann::json;

std::string folder_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

// Scene errors say "key 'n_kv_heads': ..."; inside a lecture the key lives under "scene".
std::string scoped(std::string msg, const std::string& scope) {
  const size_t k = msg.find("key '");
  if (k != std::string::npos) msg.insert(k + 5, scope);
  return msg;
}

class SlideReader {
 public:
  SlideReader(const std::string& path, size_t index, const json& obj)
      : path_(path), index_(index), obj_(obj) {
    if (auto it = obj.find("title"); it != obj.end() && it->is_string())
      title_ = it->get<std::string>();
  }

  std::string where() const {
    return path_ + ": scene " + std::to_string(index_ + 1) +
           (title_.empty() ? std::string() : " (\"" + title_ + "\")");
  }

  [[noreturn]] void fail(const std::string& what) const { throw SceneError(where() + ": " + what); }

  const json* find(const std::string& key) {
    known_.insert(key);
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }

  std::string string(const std::string& key, bool required) {
    const json* v = find(key);
    if (!v) {
      if (required) fail("key '" + key + "' is missing");
      return {};
    }
    if (!v->is_string()) fail("key '" + key + "': expected a string, got " + v->dump());
    return v->get<std::string>();
  }

  void unknown(std::vector<std::string>& warnings) const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it)
      if (!known_.count(it.key()))
        warnings.push_back(where() + ": unknown key '" + it.key() + "' ignored");
  }

 private:
  const std::string& path_;
  size_t index_;
  const json& obj_;
  std::string title_;
  std::set<std::string> known_;
};

LectureSlide read_slide(const std::string& path, size_t index, const json& obj,
                        std::vector<std::string>& warnings) {
  SlideReader r(path, index, obj);
  if (!obj.is_object()) r.fail("expected an object, got " + obj.dump());
  LectureSlide slide;
  slide.title = r.string("title", true);
  slide.caption = r.string("caption", false);
  const std::string view = r.string("view", false);

  const json* inline_scene = r.find("scene");
  const json* file = r.find("file");
  if (inline_scene && file) r.fail("give either 'scene' or 'file', not both");
  if (!inline_scene && !file) r.fail("key 'scene' is missing (an object of scene keys, or 'file')");
  std::vector<std::string> scene_warnings;
  if (inline_scene) {
    if (!inline_scene->is_object())
      r.fail("key 'scene': expected an object, got " + inline_scene->dump());
    try {
      slide.scene = scene_from_json(*inline_scene, path, scene_warnings);
    } catch (const SceneError& e) {
      r.fail(scoped(e.what(), "scene."));
    }
  } else {
    if (!file->is_string()) r.fail("key 'file': expected a string, got " + file->dump());
    const std::string rel = file->get<std::string>();
    const std::string scene_path = !rel.empty() && rel[0] == '/' ? rel : folder_of(path) + rel;
    try {
      slide.scene = load_scene(scene_path, scene_warnings);
    } catch (const SceneError& e) {
      r.fail(std::string("key 'file': ") + e.what());
    }
  }
  for (const std::string& w : scene_warnings)
    warnings.push_back(r.where() + ": " + scoped(w, "scene."));

  if (!view.empty()) {
    const fig::ViewEntry* e = fig::find_view(view);
    if (!e || e->live) {  // slides are drawn without a model
      std::string allowed;
      for (const fig::ViewEntry* a : fig::analytic_views())
        allowed += (allowed.empty() ? "" : ", ") + a->id;
      r.fail("key 'view': unknown view \"" + view + "\" (allowed " + allowed + ")");
    }
    slide.scene.view = view;
  }
  slide.scene.title = slide.title;
  slide.scene.caption = slide.caption;

  if (const json* checks = r.find("checks")) {
    if (!checks->is_object()) r.fail("key 'checks': expected an object, got " + checks->dump());
    for (auto it = checks->begin(); it != checks->end(); ++it) {
      if (it.key().empty()) r.fail("key 'checks': an empty stats key");
      if (!(it->is_number() || it->is_string() || it->is_boolean()))
        r.fail("key 'checks." + it.key() + "': expected a number, string or boolean, got " +
               it->dump());
      slide.checks[it.key()] = *it;
    }
  }
  r.unknown(warnings);
  return slide;
}

}  // namespace

Lecture load_lecture(const std::string& path, std::vector<std::string>& warnings) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const IoError& e) {
    throw SceneError(e.what());
  }
  json j;
  try {
    j = parse_json_limited(text, path);
  } catch (const JsonError& e) {
    throw SceneError(e.what());
  }
  if (!j.is_object()) throw SceneError(path + ": a lecture is a JSON object");
  Lecture lec;
  lec.path = path;
  static const std::set<std::string> kKnown = {"version", "title", "scenes"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!kKnown.count(it.key()))
      warnings.push_back(path + ": unknown key '" + it.key() + "' ignored");
  if (auto it = j.find("version"); it != j.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 1)
      throw SceneError(path + ": key 'version': " + it->dump() + " is not supported (allowed 1)");
    lec.version = it->get<int>();
  }
  if (auto it = j.find("title"); it != j.end()) {
    if (!it->is_string()) throw SceneError(path + ": key 'title': expected a string");
    lec.title = it->get<std::string>();
  }
  auto scenes = j.find("scenes");
  if (scenes == j.end()) throw SceneError(path + ": key 'scenes' is missing");
  if (!scenes->is_array() || scenes->empty())
    throw SceneError(path + ": key 'scenes': expected a non-empty list of scenes");
  for (size_t i = 0; i < scenes->size(); ++i)
    lec.slides.push_back(read_slide(path, i, (*scenes)[i], warnings));
  return lec;
}

Lecture load_lecture(const std::string& path) {
  std::vector<std::string> warnings;
  return load_lecture(path, warnings);
}

const nlohmann::ordered_json* find_dotted(const nlohmann::ordered_json& j, const std::string& key) {
  const nlohmann::ordered_json* cur = &j;
  size_t start = 0;
  while (start <= key.size()) {
    const size_t dot = key.find('.', start);
    const std::string part =
        key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (cur->is_object()) {
      auto it = cur->find(part);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array()) {
      if (part.empty() || part.size() > 9 ||
          part.find_first_not_of("0123456789") != std::string::npos)
        return nullptr;
      const size_t idx = std::stoul(part);
      if (idx >= cur->size()) return nullptr;
      cur = &(*cur)[idx];
    } else {
      return nullptr;
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

}  // namespace core
