#include "core/scene/presets.h"

#include "core/model/catalog.h"

namespace core {

using attn::WindowConvention;

const std::vector<Preset>& presets() {
  // Numbers from each model's config.json / reference code. Mistral's reference code admits
  // q-k <= W (self plus W previous); Hugging Face and Gemma count W keys including self.
  static const std::vector<Preset> kPresets = {
      {"Llama-2-7B", 32, 32, 32, 128, 4096, 0, WindowConvention::IncludingSelf, 0, 0, 0,
       "meta-llama/Llama-2-7b-hf config.json"},
      {"Llama-2-70B", 80, 64, 8, 128, 8192, 0, WindowConvention::IncludingSelf, 0, 0, 0,
       "meta-llama/Llama-2-70b-hf config.json"},
      {"Mistral-7B", 32, 32, 8, 128, 4096, 4096, WindowConvention::SelfPlusPrevious, 0, 0, 0,
       "mistralai/Mistral-7B-v0.1 config.json, mistral-src reference code"},
      {"Mixtral-8x7B", 32, 32, 8, 128, 4096, 0, WindowConvention::IncludingSelf, 0, 0, 0,
       "mistralai/Mixtral-8x7B-v0.1 config.json (no sliding window)"},
      {"Gemma-3-270M", 18, 4, 1, 256, 640, 512, WindowConvention::IncludingSelf, 6, 0, 0,
       "google/gemma-3-270m config.json (sliding_window 512, 5 local : 1 global)"},
      {"SmolLM2-135M", 30, 9, 3, 64, 576, 0, WindowConvention::IncludingSelf, 0, 0, 0,
       "HuggingFaceTB/SmolLM2-135M config.json"},
      // MLA: head_dim is qk_nope_head_dim = v_head_dim; the cache holds d_c + d_R per token.
      {"DeepSeek-V2", 60, 128, 128, 128, 5120, 0, WindowConvention::IncludingSelf, 0, 512, 64,
       "deepseek-ai/DeepSeek-V2 config.json (kv_lora_rank 512, qk_rope_head_dim 64, "
       "qk_nope_head_dim 128, v_head_dim 128)"},
      {"DeepSeek-V3", 61, 128, 128, 128, 7168, 0, WindowConvention::IncludingSelf, 0, 512, 64,
       "deepseek-ai/DeepSeek-V3 config.json (kv_lora_rank 512, qk_rope_head_dim 64, "
       "qk_nope_head_dim 128, v_head_dim 128)"},
  };
  return kPresets;
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const Preset& p : presets()) names.emplace_back(p.name);
  names.emplace_back("custom");
  names.emplace_back(kFromModelPreset);
  return names;
}

const Preset* find_preset(std::string_view name) {
  for (const Preset& p : presets())
    if (name == p.name) return &p;
  return nullptr;
}

std::string architecture_preset(const Scene& s) {
  const Preset* p = find_preset(s.preset);
  const bool same =
      p && s.n_layers == p->n_layers && s.n_heads == p->n_heads && s.n_kv_heads == p->n_kv_heads &&
      s.head_dim == p->head_dim && s.d_model == p->d_model && s.window == p->window &&
      s.window_convention == p->window_convention && s.global_every == p->global_every;
  return same ? p->name : "custom";
}

std::string preset_model(std::string_view preset) {
  try {
    for (const model::CatalogModel& m : model::model_catalog())
      if (m.preset == preset) return m.name;
  } catch (const std::exception&) {
    // No catalog: no preset runs a model of its own; the scene keeps its model.
  }
  return "";
}

bool apply_preset(Scene& scene, std::string_view name) {
  if (name == "custom" || name == kFromModelPreset) {
    scene.preset = std::string(name);
    return true;
  }
  const Preset* p = find_preset(name);
  if (!p) return false;
  scene.preset = p->name;
  scene.n_layers = p->n_layers;
  scene.n_heads = p->n_heads;
  scene.n_kv_heads = p->n_kv_heads;
  scene.head_dim = p->head_dim;
  scene.d_model = p->d_model;
  scene.window = p->window;
  scene.window_convention = p->window_convention;
  scene.global_every = p->global_every;
  if (p->mla_latent > 0) {
    scene.mla.latent = p->mla_latent;
    scene.mla.rope_dim = p->mla_rope_dim;
  } else {
    scene.mla = mla_for_head_dim(p->head_dim);
  }
  scene.mask = p->window > 0 ? attn::MaskKind::SlidingWindow : attn::MaskKind::Causal;
  if (std::string m = preset_model(p->name); !m.empty()) scene.model = m;
  if (scene.layer >= scene.n_layers) scene.layer = 0;
  if (scene.head >= scene.n_heads) scene.head = 0;
  return true;
}

MlaParams mla_for_head_dim(int head_dim) {
  MlaParams m;
  m.latent = 4 * head_dim;
  m.rope_dim = head_dim / 2;
  return m;
}

bool layer_is_global(const Scene& scene, int layer) {
  if (scene.window <= 0) return true;
  if (scene.mask == attn::MaskKind::Causal || scene.mask == attn::MaskKind::Sparse) return true;
  return scene.global_every > 0 && (layer + 1) % scene.global_every == 0;
}

}  // namespace core
