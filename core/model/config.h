// Architecture parameters read from GGUF metadata, plus the facts the file does not carry
// (Gemma 3's local/global layer pattern and local RoPE base, from Hugging Face's Gemma3 config).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/attention/spec.h"
#include "core/model/gguf.h"

namespace core::model {

enum class Arch { Llama, Gemma3 };
const char* arch_name(Arch a);

// How RoPE pairs dimensions. llama.cpp's converter permutes llama q/k rows so that adjacent
// pairs (2i, 2i+1) rotate together; Gemma keeps Hugging Face's halves (i, i + hd/2).
enum class RopeStyle { AdjacentPairs, Halves };

struct LayerConfig {
  int window = 0;  // native sliding window (0 = full causal)
  attn::WindowConvention convention = attn::WindowConvention::IncludingSelf;
  float rope_base = 10000.0f;
};

struct Config {
  Arch arch = Arch::Llama;
  std::string name;  // general.name
  int n_layers = 0;
  int d_model = 0;
  int d_ff = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int vocab = 0;
  int context_length = 0;
  float rms_eps = 1e-5f;
  RopeStyle rope_style = RopeStyle::AdjacentPairs;
  float attn_scale = 0;          // multiplies q·k (1/sqrt(head_dim) or query_pre_attn_scalar^-1/2)
  float embed_scale = 1.0f;      // gemma: sqrt(d_model)
  float final_softcap = 0;       // 0 = none
  bool qk_norm = false;          // the arch's tensor table has q/k norms (gemma3)
  bool post_norms = false;       // table has norms after attention and the MLP (gemma3)
  bool gelu_tanh = false;        // gemma3 GeGLU; llama uses SwiGLU
  bool tied_embeddings = false;  // output.weight absent
  std::vector<LayerConfig> layers;  // [n_layers]
  int bos_id = -1;
  int eos_id = -1;
};

// Upper bounds on hyper-parameters (far above any model this app runs; they keep every
// product of them inside int64 and every narrowing to int exact).
inline constexpr int64_t kMaxLayers = 1024, kMaxWidth = 1 << 16, kMaxHeads = 1024,
                         kMaxHeadDim = 4096, kMaxContext = 1 << 24, kMaxVocab = 1 << 22;

// Reads the config, range-checking every key before it narrows, then runs validate_model()
// (tensor table and tokenizer metadata against the config). Throws ModelError naming the
// file and the key for an unknown architecture, a missing key or any value out of range.
Config read_config(const GgufFile& f);

}  // namespace core::model
