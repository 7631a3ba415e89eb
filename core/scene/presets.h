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
  int mla_latent;      // MLA kv_lora_rank d_c; 0 = not an MLA model (the scene's mla.* stay)
  int mla_rope_dim;    // MLA qk_rope_head_dim (the decoupled RoPE key), with mla_latent
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
// model also sets scene.model. The MLA keys get the DeepSeek presets' published d_c and d_R,
// and for every other preset mla_for_head_dim(head_dim). "custom" and "from model" only set
// the name. Returns false, leaving the scene untouched, for an unknown name.
bool apply_preset(Scene& scene, std::string_view name);

// MLA sized as DeepSeek-V2 sizes it (Table 1: d_c = 4 d_h, d_R = d_h / 2, its 512 and 64 at
// d_h = 128): what the model's cache would be under MLA, about GQA with 2.25 groups.
MlaParams mla_for_head_dim(int head_dim);

// The preset the scene's architecture really is: scene.preset while every architecture key
// (n_layers, n_heads, n_kv_heads, head_dim, d_model, window, window_convention, global_every)
// still holds the preset's value, else "custom".
std::string architecture_preset(const Scene& scene);

// Layer `layer` (0-based) attends globally: the preset's global_every-th layers, or every
// layer when the mask has no window.
bool layer_is_global(const Scene& scene, int layer);

}  // namespace core
