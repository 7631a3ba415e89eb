// GGUF tensor names per architecture: the one table the config reader, the weights loader and
// the quantized single-token path take names from. The names are llama.cpp's (its converter
// wrote the files; gguf-py's constants.py lists them). Per-layer names are relative to the
// layer prefix "blk.<i>."; an architecture without a tensor has nullptr there.
#pragma once

#include <string>

#include "core/model/config.h"

namespace core::model {

struct TensorNames {
  // Whole-model tensors.
  const char* token_embd;   // [vocab, d_model]
  const char* output;       // [vocab, d_model]; absent from the file when tied to token_embd
  const char* output_norm;  // [d_model]
  // Per layer, after "blk.<i>.".
  const char* attn_norm;       // [d_model]
  const char* attn_q;          // [n_heads*hd, d_model]
  const char* attn_k;          // [n_kv*hd, d_model]
  const char* attn_v;          // [n_kv*hd, d_model]
  const char* attn_output;     // [d_model, n_heads*hd]
  const char* ffn_norm;        // [d_model]
  const char* ffn_gate;        // [d_ff, d_model]
  const char* ffn_up;          // [d_ff, d_model]
  const char* ffn_down;        // [d_model, d_ff]
  const char* attn_q_norm;     // [hd] QK-norm (gemma3), else nullptr
  const char* attn_k_norm;     // [hd] QK-norm (gemma3), else nullptr
  const char* post_attn_norm;  // [d_model] norm after attention (gemma3), else nullptr
  const char* post_ffn_norm;   // [d_model] norm after the MLP (gemma3), else nullptr
};

// The table for an architecture.
const TensorNames& tensor_names(Arch a);

// "blk.<layer>.<name>": a per-layer tensor's full name.
std::string layer_tensor(int layer, const char* name);

}  // namespace core::model
