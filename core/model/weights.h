// Model weights as f32. The forward pass reads the matrices straight from the mapped GGUF
// blocks (qgemv.h, qgemm.h), so by default only the norm vectors are loaded here and the
// matrix fields stay empty; tools and tests that want the f32 matrices (SmolLM2 ~540 MB,
// Gemma-3-270M ~1.1 GB) ask for them. Matrices are row-major [out, in], which is how GGUF
// stores them (ggml dims[0] = in).
#pragma once

#include <string>
#include <vector>

#include "core/model/config.h"
#include "core/model/gguf.h"

namespace core::model {

struct LayerWeights {
  std::vector<float> attn_norm;       // [d_model]
  std::vector<float> wq;              // [n_heads*hd, d_model]
  std::vector<float> wk;              // [n_kv*hd, d_model]
  std::vector<float> wv;              // [n_kv*hd, d_model]
  std::vector<float> wo;              // [d_model, n_heads*hd]
  std::vector<float> q_norm;          // [hd] gemma3
  std::vector<float> k_norm;          // [hd] gemma3
  std::vector<float> post_attn_norm;  // [d_model] gemma3
  std::vector<float> ffn_norm;        // [d_model]
  std::vector<float> w_gate;          // [d_ff, d_model]
  std::vector<float> w_up;            // [d_ff, d_model]
  std::vector<float> w_down;          // [d_model, d_ff]
  std::vector<float> post_ffn_norm;   // [d_model] gemma3
};

struct Weights {
  std::vector<float> token_embd;   // [vocab, d_model]
  std::vector<float> output;       // [vocab, d_model]; empty when tied to token_embd
  std::vector<float> output_norm;  // [d_model]
  std::vector<LayerWeights> layers;
  const float* lm_head() const { return output.empty() ? token_embd.data() : output.data(); }
};

// One tensor the model reads: its GGUF name, its shape in ggml order, and where it goes.
// The one list of tensor names and shapes; validate_model() checks it before any weight is
// read, load_weights() then fills the fields.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> dims;
  int layer = -1;                                           // -1: a model-level tensor
  std::vector<float> Weights::*model_field = nullptr;       // when layer < 0
  std::vector<float> LayerWeights::*layer_field = nullptr;  // when layer >= 0
};
std::vector<TensorSpec> tensor_specs(const Config& c);

// Checks every tensor and dequantizes the norms (and the matrices too when `f32_matrices`).
// Throws ModelError naming the file and tensor for a missing tensor, a wrong shape or an
// unsupported quant type.
Weights load_weights(const GgufFile& f, const Config& c, int n_threads = 0,
                     bool f32_matrices = false);

// Mean-pools K/V projection heads within groups to `kv_heads` heads (GQA paper's checkpoint
// conversion): head j of the result is the mean of heads j*g .. j*g+g-1, g = n_kv / kv_heads.
std::vector<float> pool_kv_heads(const std::vector<float>& w, int n_kv, int kv_heads, int head_dim,
                                 int d_model);

}  // namespace core::model
