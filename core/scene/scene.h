// Scene: every slider and choice of the app as one plain struct. Saved and loaded as JSON
// (scene_json.h); the CLI, the app, lectures and tests all start from a Scene.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/attention/spec.h"
#include "core/model/variant.h"

namespace core {

enum class Dtype { FP32, FP16, BF16, FP8 };

int dtype_bytes(Dtype d);
const char* dtype_name(Dtype d);
const char* mask_kind_name(attn::MaskKind k);
const char* window_convention_name(attn::WindowConvention c);

struct SparseParams {
  int global = 4;
  int local = 16;
  int random = 4;
  uint32_t seed = 1;
  bool operator==(const SparseParams&) const = default;
};

struct Scene {
  static constexpr int kVersion = 1;
  int version = kVersion;
  std::string preset = "Mistral-7B";  // one of preset_names() or "custom"

  // Architecture (filled by the preset; explicit keys override).
  int n_layers = 32;
  int n_heads = 32;
  int n_kv_heads = 8;
  int head_dim = 128;
  int d_model = 4096;
  int global_every =
      0;  // every k-th layer is global (full causal), others use the window; 0 = none
  Dtype dtype = Dtype::FP16;
  int batch = 1;

  // Mask.
  int seq_len = 64;
  attn::MaskKind mask = attn::MaskKind::SlidingWindow;
  int window = 16;
  attn::WindowConvention window_convention = attn::WindowConvention::SelfPlusPrevious;
  int chunk = 16;
  std::vector<int> segments = {24, 16, 24};  // packed prompt lengths
  SparseParams sparse;

  // Cursor positions.
  int query = 63;  // query position for the receptive field
  int step = 40;   // generation step for the rolling buffer (number of tokens written)

  // Live model (parts 2-3). The model runs with the window above (one window for the
  // analytic and the live views) unless model_windows is set; variant.window and
  // variant.window_convention are not read (old files' variant.window loads into `window`).
  std::string model = "smollm2";  // "smollm2", "gemma3" or a GGUF path
  std::string prompt;             // "" = the default prompt (assets/prompts/recall.txt)
  bool model_windows = false;     // the live model keeps its own windows
  ModelVariant variant;           // kv_heads, cache, chunk
  int layer = 0;                  // selected layer / head in the attention views
  int head = 0;

  // Presentation (never invalidates computation).
  std::string view = "mask";         // focused view id
  std::string theme = "dark";        // "dark" | "light"
  std::string colormap = "viridis";  // "viridis" | "cividis"
  bool log_scale = false;            // KV-memory axes / heatmap value scale
  std::string title;
  std::string caption;

  bool operator==(const Scene&) const = default;
};

// Builds the attn::MaskSpec the scene describes. `segment_ends` receives the cumulative ends
// the spec points into, so it must outlive the returned spec.
attn::MaskSpec mask_spec(const Scene& s, std::vector<int32_t>& segment_ends);

}  // namespace core
