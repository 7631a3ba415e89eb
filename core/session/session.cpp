#include "core/session/session.h"

#include <cstdlib>

#include "core/io/atomic_write.h"
#include "core/scene/presets.h"
#include "core/session/live_runs.h"

namespace core {
namespace {

// The run keys of a scene, everything else left at its default.
Scene run_keys(const Scene& s) {
  Scene r;
  r.model = s.model;
  r.prompt = s.prompt;
  r.model_windows = s.model_windows;
  r.variant = s.variant;
  return r;
}

Scene look_keys(const Scene& s) {
  Scene r;
  r.view = s.view;
  r.layer = s.layer;
  r.head = s.head;
  r.theme = s.theme;
  r.colormap = s.colormap;
  r.log_scale = s.log_scale;
  r.title = s.title;
  r.caption = s.caption;
  return r;
}

// The scene with its run and look keys at their defaults: what is left is architecture.
Scene architecture_keys(const Scene& s) {
  Scene r = s;
  const Scene d;
  r.model = d.model;
  r.prompt = d.prompt;
  r.model_windows = d.model_windows;
  r.variant = d.variant;
  r.view = d.view;
  r.layer = d.layer;
  r.head = d.head;
  r.theme = d.theme;
  r.colormap = d.colormap;
  r.log_scale = d.log_scale;
  r.title = d.title;
  r.caption = d.caption;
  return r;
}

std::string range_message(const char* key, int v, int n, const char* what, const model::Config& c) {
  return std::string(key) + " " + std::to_string(v) + " is outside the model: " + c.name + " has " +
         std::to_string(n) + " " + what + " (0.." + std::to_string(n - 1) + ")";
}

}  // namespace

bool same_architecture(const Scene& a, const Scene& b) {
  return architecture_keys(a) == architecture_keys(b);
}
bool same_run(const Scene& a, const Scene& b) {
  return run_keys(a) == run_keys(b);
}
bool same_look(const Scene& a, const Scene& b) {
  return look_keys(a) == look_keys(b);
}

std::string default_prompt() {
  const char* env = std::getenv("ATTNLAB_ASSETS");
  const std::string dir = env && *env ? env : ATTNLAB_ASSET_DIR;
  try {
    std::string text = read_file(dir + "/prompts/recall.txt");
    if (!text.empty()) return text;
  } catch (const std::exception&) {
  }
  return "The quick brown fox jumps over the lazy dog. The dog sleeps.";
}

LiveRun live_run(const Scene& s, const std::string& fallback_prompt) {
  LiveRun r;
  r.model = s.model;
  r.prompt = s.prompt.empty() ? fallback_prompt : s.prompt;
  r.variant = s.variant;
  r.variant.window = 0;
  r.variant.window_convention = attn::WindowConvention::IncludingSelf;
  r.variant.window_layers.clear();
  if (!s.model_windows && s.mask == attn::MaskKind::SlidingWindow && s.window > 0) {
    r.variant.window = s.window;
    r.variant.window_convention = s.window_convention;
    r.variant.window_layers = s.variant.window_layers;
    if (r.variant.window_layers.empty() && s.global_every > 0)
      for (int l = 0; l < s.n_layers; ++l)
        if (!layer_is_global(s, l)) r.variant.window_layers.push_back(l);
  }
  // Packed prompts: the live model runs the scene's segments (the prompt cut to their sum);
  // the model's own windows apply inside each segment.
  r.variant.segments.clear();
  if (s.mask == attn::MaskKind::BlockDiagonal) r.variant.segments = s.segments;
  apply_scene_sparse(s, r.variant);
  r.ring_window = ring_generation_window(r.variant, s.window);
  r.focus_layer = s.layer;
  return r;
}

void apply_scene_sparse(const Scene& s, ModelVariant& v) {
  v.sparse_global = v.sparse_local = v.sparse_random = 0;
  v.sparse_seed = 1;
  if (s.model_windows || s.mask != attn::MaskKind::Sparse || s.sparse.local <= 0) return;
  v.sparse_global = s.sparse.global;
  v.sparse_local = s.sparse.local;
  v.sparse_random = s.sparse.random;
  v.sparse_seed = s.sparse.seed;
}

std::string check_against_model(const Scene& s, const model::Config& c) {
  if (s.layer >= c.n_layers) return range_message("layer", s.layer, c.n_layers, "layers", c);
  if (s.head >= c.n_heads) return range_message("head", s.head, c.n_heads, "heads", c);
  const int kv = s.variant.kv_heads;
  if (kv > 0 && (kv > c.n_kv_heads || c.n_kv_heads % kv != 0 || c.n_heads % kv != 0))
    return "variant.kv_heads " + std::to_string(kv) + " does not fit the model: " + c.name +
           " has " + std::to_string(c.n_kv_heads) +
           " K/V heads; pooling takes a divisor of it (0 = native)";
  return "";
}

void architecture_from_model(Scene& s, const model::Config& c) {
  s.preset = kFromModelPreset;
  s.n_layers = c.n_layers;
  s.n_heads = c.n_heads;
  s.n_kv_heads = c.n_kv_heads;
  s.head_dim = c.head_dim;
  s.d_model = c.d_model;
  int window = 0, global_every = 0;
  attn::WindowConvention conv = attn::WindowConvention::IncludingSelf;
  for (int l = 0; l < c.n_layers; ++l) {
    const model::LayerConfig& lc = c.layers[static_cast<size_t>(l)];
    if (lc.window > 0 && window == 0) window = lc.window, conv = lc.convention;
    if (lc.window == 0 && global_every == 0 && window > 0) global_every = l + 1;
  }
  s.window = window;
  s.window_convention = conv;
  s.global_every = window > 0 ? global_every : 0;
  s.mask = window > 0 ? attn::MaskKind::SlidingWindow : attn::MaskKind::Causal;
  if (s.layer >= s.n_layers) s.layer = 0;
  if (s.head >= s.n_heads) s.head = 0;
}

Session::Session(LiveSessionOptions opts)
    : opts_(std::move(opts)),
      default_prompt_(default_prompt()),
      run_(live_run(scene_, default_prompt_)),
      result_(std::make_shared<LiveResult>()) {}

void Session::update(const Scene& scene) {
  if (seen_ && scene == scene_) {  // the usual frame: nothing to compare part by part
    if (live_) poll_live();
    return;
  }
  if (!seen_ || !same_architecture(scene, scene_)) ++arch_rev_;
  if (!seen_ || !same_look(scene, scene_)) ++look_rev_;
  const LiveRun run = live_run(scene, default_prompt_);
  LiveRun a = run, b = run_;  // the focus layer is the look's layer: no run change of its own
  a.focus_layer = b.focus_layer = 0;
  if (!seen_ || !(a == b)) ++run_rev_;
  seen_ = true;
  scene_ = scene;
  run_ = run;
  if (!live_) return;
  live_->update(run_);
  poll_live();
}

void Session::poll_live() {
  std::shared_ptr<const LiveResult> r = live_->result();
  if (r != result_) {
    result_ = std::move(r);
    ++result_rev_;
  }
}

uint64_t& Session::counter(ScenePart p) {
  return p == kArchitecture ? arch_rev_
         : p == kRun        ? run_rev_
         : p == kLook       ? look_rev_
                            : result_rev_;
}

uint64_t Session::part_revision(ScenePart p) const {
  return p == kArchitecture ? arch_rev_
         : p == kRun        ? run_rev_
         : p == kLook       ? look_rev_
                            : result_rev_;
}

uint64_t Session::revision(unsigned parts) const {
  uint64_t r = 0;
  if (parts & kArchitecture) r += arch_rev_;
  if (parts & kRun) r += run_rev_;
  if (parts & kLook) r += look_rev_;
  if (parts & kLiveResult) r += result_rev_;
  return r;
}

void Session::touch(ScenePart p) {
  ++counter(p);
}

LiveSession& Session::live() {
  if (!live_) {
    live_ = std::make_unique<LiveSession>(opts_);
    live_->update(run_);
    poll_live();
  }
  return *live_;
}

bool Session::live_idle() const {
  return !live_ || (live_->idle() && live_->result() == result_);
}

bool Session::wait_live(double timeout_s) {
  const bool idle = live().wait_idle(timeout_s);
  poll_live();
  return idle;
}

std::shared_ptr<const LiveResult> Session::live_result() const {
  return result_;
}

}  // namespace core
