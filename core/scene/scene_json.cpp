#include "core/scene/scene_json.h"

#include <cmath>
#include <limits>
#include <set>

#include "core/figure/colormap.h"
#include "core/figure/theme.h"
#include "core/figure/view_registry.h"
#include "core/io/atomic_write.h"
#include "core/io/json_read.h"
#include "core/scene/presets.h"

namespace core {
namespace {

using nlohmann::json;

constexpr int kMaxWindow = 1 << 20;
constexpr int kMaxModelIndex = 1023;  // layers / heads a scene may name
constexpr int kMaxStep = 1 << 20;

const char* type_name(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "a list";
  return "an object";
}

// Reads the keys of one JSON object into fields; remembers which keys it consumed so the rest
// can be reported as unknown. Types are checked here, ranges in validate_scene().
class ObjectReader {
 public:
  ObjectReader(const json& obj, std::string prefix) : obj_(obj), prefix_(std::move(prefix)) {}

  std::string key_name(const std::string& key) const { return prefix_ + key; }

  const json* find(const std::string& key) {
    known_.insert(key);
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }

  [[noreturn]] void type_error(const std::string& key, const char* want, const json& v) const {
    throw SceneError("key '" + key_name(key) + "': expected " + want + ", got " + type_name(v));
  }

  int64_t integer(const std::string& key, const json& v) const {
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (std::floor(d) == d && std::fabs(d) < 9e15) return static_cast<int64_t>(d);
      throw SceneError("key '" + key_name(key) + "': expected an integer, got " + v.dump());
    }
    type_error(key, "an integer", v);
  }

  // Ints outside the int range are out of range for every key, so report them as such.
  void read(const std::string& key, int& out) {
    if (const json* v = find(key)) {
      const int64_t x = integer(key, *v);
      if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max())
        throw SceneError("key '" + key_name(key) + "': " + std::to_string(x) + " is out of range");
      out = static_cast<int>(x);
    }
  }
  void read(const std::string& key, uint32_t& out) {
    if (const json* v = find(key)) {
      const int64_t x = integer(key, *v);
      if (x < 0 || x > std::numeric_limits<uint32_t>::max())
        throw SceneError("key '" + key_name(key) + "': " + std::to_string(x) +
                         " is out of range (allowed 0..4294967295)");
      out = static_cast<uint32_t>(x);
    }
  }
  void read(const std::string& key, bool& out) {
    if (const json* v = find(key)) {
      if (!v->is_boolean()) type_error(key, "true or false", *v);
      out = v->get<bool>();
    }
  }
  void read(const std::string& key, std::string& out) {
    if (const json* v = find(key)) {
      if (!v->is_string()) type_error(key, "a string", *v);
      out = v->get<std::string>();
    }
  }
  void read(const std::string& key, std::vector<int>& out) {
    if (const json* v = find(key)) {
      if (!v->is_array()) type_error(key, "a list of integers", *v);
      out.clear();
      for (const json& e : *v) {
        const int64_t x = integer(key, e);
        if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max())
          throw SceneError("key '" + key_name(key) + "': " + std::to_string(x) +
                           " is out of range");
        out.push_back(static_cast<int>(x));
      }
    }
  }

  // Enumerations are strings from a fixed list; anything else names the list.
  template <typename E, size_t N>
  void read_enum(const std::string& key, E& out, const std::pair<const char*, E> (&table)[N]) {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_string()) type_error(key, "a string", *v);
    const std::string s = v->get<std::string>();
    std::string allowed;
    for (const auto& [name, value] : table) {
      if (s == name) {
        out = value;
        return;
      }
      allowed += std::string(allowed.empty() ? "" : ", ") + "\"" + name + "\"";
    }
    throw SceneError("key '" + key_name(key) + "': unknown value \"" + s + "\" (allowed " +
                     allowed + ")");
  }

  const json* object(const std::string& key) {
    const json* v = find(key);
    if (v && !v->is_object()) type_error(key, "an object", *v);
    return v;
  }

  void report_unknown(std::vector<std::string>& warnings) const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it)
      if (!known_.count(it.key()))
        warnings.push_back("unknown key '" + prefix_ + it.key() + "' ignored");
  }

 private:
  const json& obj_;
  std::string prefix_;
  std::set<std::string> known_;
};

constexpr std::pair<const char*, Dtype> kDtypes[] = {
    {"fp32", Dtype::FP32}, {"fp16", Dtype::FP16}, {"bf16", Dtype::BF16}, {"fp8", Dtype::FP8}};
constexpr std::pair<const char*, attn::MaskKind> kMasks[] = {
    {"causal", attn::MaskKind::Causal},
    {"sliding_window", attn::MaskKind::SlidingWindow},
    {"chunked", attn::MaskKind::Chunked},
    {"block_diagonal", attn::MaskKind::BlockDiagonal},
    {"sparse", attn::MaskKind::Sparse}};
constexpr std::pair<const char*, attn::WindowConvention> kConventions[] = {
    {"including_self", attn::WindowConvention::IncludingSelf},
    {"self_plus_previous", attn::WindowConvention::SelfPlusPrevious}};
constexpr std::pair<const char*, CacheMode> kCaches[] = {
    {"none", CacheMode::None}, {"full", CacheMode::Full}, {"rolling", CacheMode::Rolling}};

void check_range(const char* key, int64_t v, int64_t lo, int64_t hi, const char* why = nullptr) {
  if (v >= lo && v <= hi) return;
  std::string msg = std::string("key '") + key + "': " + std::to_string(v) +
                    " is out of range (allowed " + std::to_string(lo) + ".." + std::to_string(hi);
  if (why) msg += std::string(", ") + why;
  throw SceneError(msg + ")");
}

// Files from before part 5 set the live model's window in variant.window: there is one window
// now, so it becomes the scene's window (sliding, with the variant's convention).
void read_old_live_window(Scene& s, std::vector<std::string>& warnings) {
  if (s.variant.window <= 0) return;
  s.window = s.variant.window;
  s.window_convention = s.variant.window_convention;
  s.mask = attn::MaskKind::SlidingWindow;
  warnings.push_back("key 'variant.window' is read as 'window' = " + std::to_string(s.window) +
                     " (one window drives the mask and the live model)");
  s.variant.window = 0;
  s.variant.window_convention = attn::WindowConvention::IncludingSelf;
}

}  // namespace

void validate_scene(const Scene& s) {
  check_range("version", s.version, 1, Scene::kVersion);
  check_range("seq_len", s.seq_len, 1, kMaxSeqLen);
  check_range("n_layers", s.n_layers, 1, 1024);
  check_range("n_heads", s.n_heads, 1, 1024);
  check_range("n_kv_heads", s.n_kv_heads, 1, s.n_heads, "at most n_heads");
  if (s.n_heads % s.n_kv_heads != 0)
    throw SceneError("key 'n_kv_heads': " + std::to_string(s.n_kv_heads) +
                     " does not divide n_heads = " + std::to_string(s.n_heads) +
                     " (each K/V head serves an equal group of query heads)");
  check_range("head_dim", s.head_dim, 1, 4096);
  check_range("d_model", s.d_model, 1, 1 << 18);
  check_range("global_every", s.global_every, 0, s.n_layers, "0 = no global layers");
  check_range("batch", s.batch, 1, 65536);
  check_range("window", s.window, 0, kMaxWindow, "0 = no window");
  check_range("chunk", s.chunk, 0, kMaxSeqLen, "0 = one chunk");
  check_range("segments (count)", static_cast<int64_t>(s.segments.size()), 0, 4096);
  for (int len : s.segments) check_range("segments", len, 1, kMaxSeqLen);
  check_range("sparse.global", s.sparse.global, 0, kMaxSeqLen);
  check_range("sparse.local", s.sparse.local, 0, kMaxSeqLen);
  check_range("sparse.random", s.sparse.random, 0, 64);
  check_range("query", s.query, 0, s.seq_len - 1, "a position below seq_len");
  check_range("step", s.step, 0, kMaxStep, "tokens written so far");
  // Layer, head and K/V heads select inside the live model, which need not have the scene's
  // dimensions: they are checked against the loaded model (core::check_against_model), so a
  // scene saved with any model loads again.
  check_range("layer", s.layer, 0, kMaxModelIndex, "checked against the model when it runs");
  check_range("head", s.head, 0, kMaxModelIndex, "checked against the model when it runs");
  check_range("variant.kv_heads", s.variant.kv_heads, 0, kMaxModelIndex, "0 = native");
  for (int l : s.variant.window_layers) check_range("variant.window_layers", l, 0, kMaxModelIndex);
  check_range("variant.chunk", s.variant.chunk, 0, kMaxSeqLen, "0 = one-shot prefill");
  if (s.preset != "custom" && s.preset != kFromModelPreset && !find_preset(s.preset)) {
    std::string allowed;
    for (const std::string& n : preset_names()) allowed += (allowed.empty() ? "" : ", ") + n;
    throw SceneError("key 'preset': unknown preset \"" + s.preset + "\" (allowed " + allowed + ")");
  }
  if (!fig::find_view(s.view))
    throw SceneError("key 'view': unknown view \"" + s.view + "\" (allowed " + fig::view_id_list() +
                     ")");
  bool theme_ok = false;
  for (const std::string& t : fig::theme_names()) theme_ok = theme_ok || t == s.theme;
  if (!theme_ok)
    throw SceneError("key 'theme': unknown theme \"" + s.theme +
                     "\" (allowed dark, light, slides)");
  if (!fig::parse_colormap(s.colormap))
    throw SceneError("key 'colormap': unknown colormap \"" + s.colormap +
                     "\" (allowed viridis, cividis, diverging)");
}

Scene scene_from_json(const json& j, const std::string& source,
                      std::vector<std::string>& warnings) {
  if (!j.is_object()) throw SceneError(source + ": a scene is a JSON object, got " + type_name(j));
  Scene s;
  ObjectReader r(j, "");
  // The preset goes first so that every explicit key overrides what it filled in.
  if (const json* p = r.find("preset")) {
    if (!p->is_string()) r.type_error("preset", "a string", *p);
    if (!apply_preset(s, p->get<std::string>())) {
      std::string allowed;
      for (const std::string& n : preset_names()) allowed += (allowed.empty() ? "" : ", ") + n;
      throw SceneError("key 'preset': unknown preset \"" + p->get<std::string>() + "\" (allowed " +
                       allowed + ")");
    }
  }
  r.read("version", s.version);
  r.read("seq_len", s.seq_len);
  r.read("n_layers", s.n_layers);
  r.read("n_heads", s.n_heads);
  r.read("n_kv_heads", s.n_kv_heads);
  r.read("head_dim", s.head_dim);
  r.read("d_model", s.d_model);
  r.read("global_every", s.global_every);
  r.read_enum("dtype", s.dtype, kDtypes);
  r.read("batch", s.batch);
  r.read_enum("mask", s.mask, kMasks);
  r.read("window", s.window);
  r.read_enum("window_convention", s.window_convention, kConventions);
  r.read("chunk", s.chunk);
  r.read("segments", s.segments);
  if (const json* sp = r.object("sparse")) {
    ObjectReader rs(*sp, "sparse.");
    rs.read("global", s.sparse.global);
    rs.read("local", s.sparse.local);
    rs.read("random", s.sparse.random);
    rs.read("seed", s.sparse.seed);
    rs.report_unknown(warnings);
  }
  // A file that does not name the query follows the last position, so changing seq_len alone
  // is enough; an explicit query outside the sequence is still an error.
  if (!j.contains("query")) s.query = s.seq_len - 1;
  r.read("query", s.query);
  r.read("step", s.step);
  r.read("model", s.model);
  r.read("prompt", s.prompt);
  // A preset with a runnable model runs it unless the file names another.
  if (!j.contains("model"))
    if (std::string m = preset_model(s.preset); !m.empty()) s.model = m;
  r.read("model_windows", s.model_windows);
  if (const json* v = r.object("variant")) {
    ObjectReader rv(*v, "variant.");
    rv.read("window", s.variant.window);
    rv.read_enum("window_convention", s.variant.window_convention, kConventions);
    rv.read("window_layers", s.variant.window_layers);
    rv.read("kv_heads", s.variant.kv_heads);
    rv.read_enum("cache", s.variant.cache, kCaches);
    rv.read("chunk", s.variant.chunk);
    rv.report_unknown(warnings);
  }
  read_old_live_window(s, warnings);
  r.read("layer", s.layer);
  r.read("head", s.head);
  r.read("view", s.view);
  r.read("theme", s.theme);
  r.read("colormap", s.colormap);
  r.read("log_scale", s.log_scale);
  r.read("title", s.title);
  r.read("caption", s.caption);
  r.report_unknown(warnings);
  // A query past the end is the most common edit mistake (shrinking seq_len in a file), but
  // it is still an error: silently moving it would change what the figure claims.
  validate_scene(s);
  return s;
}

Scene scene_from_json_text(std::string_view text, const std::string& source,
                           std::vector<std::string>& warnings) {
  json j;
  try {
    j = parse_json_limited(text, source);
  } catch (const JsonError& e) {
    throw SceneError(e.what());
  }
  try {
    return scene_from_json(j, source, warnings);
  } catch (const SceneError& e) {
    const std::string msg = e.what();
    if (msg.rfind(source + ":", 0) == 0) throw;
    throw SceneError(source + ": " + msg);
  }
}

Scene load_scene(const std::string& path, std::vector<std::string>& warnings) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const IoError& e) {
    throw SceneError(e.what());
  }
  return scene_from_json_text(text, path, warnings);
}

// Ordered, so a saved file reads top-down like the schema (version, preset, sizes, mask...).
nlohmann::ordered_json scene_to_json(const Scene& s) {
  nlohmann::ordered_json j;
  j["version"] = s.version;
  j["preset"] = s.preset;
  j["seq_len"] = s.seq_len;
  j["n_layers"] = s.n_layers;
  j["n_heads"] = s.n_heads;
  j["n_kv_heads"] = s.n_kv_heads;
  j["head_dim"] = s.head_dim;
  j["d_model"] = s.d_model;
  j["global_every"] = s.global_every;
  j["dtype"] = dtype_name(s.dtype);
  j["batch"] = s.batch;
  j["mask"] = mask_kind_name(s.mask);
  j["window"] = s.window;
  j["window_convention"] = window_convention_name(s.window_convention);
  j["chunk"] = s.chunk;
  j["segments"] = s.segments;
  j["sparse"] = {{"global", s.sparse.global},
                 {"local", s.sparse.local},
                 {"random", s.sparse.random},
                 {"seed", s.sparse.seed}};
  j["query"] = s.query;
  j["step"] = s.step;
  j["model"] = s.model;
  j["prompt"] = s.prompt;
  j["model_windows"] = s.model_windows;
  j["variant"] = {{"window_layers", s.variant.window_layers},
                  {"kv_heads", s.variant.kv_heads},
                  {"cache", cache_mode_name(s.variant.cache)},
                  {"chunk", s.variant.chunk}};
  j["layer"] = s.layer;
  j["head"] = s.head;
  j["view"] = s.view;
  j["theme"] = s.theme;
  j["colormap"] = s.colormap;
  j["log_scale"] = s.log_scale;
  j["title"] = s.title;
  j["caption"] = s.caption;
  return j;
}

std::string scene_to_json_text(const Scene& s) {
  return scene_to_json(s).dump(2) + "\n";
}

void save_scene(const std::string& path, const Scene& s) {
  write_file_atomic(path, scene_to_json_text(s));
}

}  // namespace core
