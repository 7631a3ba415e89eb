// Published model configurations. A preset fills the architecture and window fields of a
// Scene; explicit JSON keys applied afterwards override it (scene_json.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/scene/scene.h"

namespace core {

struct Preset {
  const char* name;
  int n_layers;
  int n_heads;
  int n_kv_heads;
  int head_dim;
  int d_model;
  int window;  // 0 = full causal attention on every layer
  attn::WindowConvention window_convention;
  int global_every;    // every k-th layer is global (Gemma 3: 5 local then 1 global -> 6); 0 = none
  const char* source;  // where the numbers come from, shown in the app
};

// The architecture read from a loaded GGUF (core::architecture_from_model fills it).
inline constexpr const char* kFromModelPreset = "from model";

// The catalog model (assets/models.json) whose architecture is this preset: "gemma3" for
// "Gemma-3-270M"; "" when none is (Mistral-7B, ...) or the catalog cannot be read.
std::string preset_model(std::string_view preset);

// The real presets, in display order ("custom" is not one of them: it changes nothing).
const std::vector<Preset>& presets();

// Preset names in display order, followed by "custom" and "from model".
std::vector<std::string> preset_names();

// nullptr when unknown (and for "custom").
const Preset* find_preset(std::string_view name);

// Copies the preset's fields into the scene, sets scene.preset and picks the mask kind the
// model uses (sliding_window when it has a window, else causal); a preset with a runnable
// model also sets scene.model. "custom" and "from model" only set the name. Returns false, leaving
// the scene untouched, for an unknown name.
bool apply_preset(Scene& scene, std::string_view name);

// The preset the scene's architecture really is: scene.preset while every architecture key
// (n_layers, n_heads, n_kv_heads, head_dim, d_model, window, window_convention, global_every)
// still holds the preset's value, else "custom".
std::string architecture_preset(const Scene& scene);

// Layer `layer` (0-based) attends globally: the preset's global_every-th layers, or every
// layer when the mask has no window.
bool layer_is_global(const Scene& scene, int layer);

}  // namespace core
