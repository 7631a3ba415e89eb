#include "core/model/config.h"

#include <cmath>

#include "core/model/tensor_names.h"

namespace core::model {

const char* arch_name(Arch a) {
  return a == Arch::Llama ? "llama" : "gemma3";
}

Config read_config(const GgufFile& f) {
  Config c;
  const std::string arch = f.get_string("general.architecture");
  if (arch == "llama") {
    c.arch = Arch::Llama;
  } else if (arch == "gemma3") {
    c.arch = Arch::Gemma3;
  } else {
    f.fail("unknown architecture '" + arch + "' (supported: llama, gemma3)");
  }
  const std::string p = arch + ".";
  c.name = f.has("general.name") ? f.get_string("general.name") : arch;
  c.n_layers = static_cast<int>(f.get_int(p + "block_count"));
  c.d_model = static_cast<int>(f.get_int(p + "embedding_length"));
  c.d_ff = static_cast<int>(f.get_int(p + "feed_forward_length"));
  c.n_heads = static_cast<int>(f.get_int(p + "attention.head_count"));
  c.n_kv_heads = static_cast<int>(f.get_int(p + "attention.head_count_kv", c.n_heads));
  c.head_dim = static_cast<int>(
      f.get_int(p + "attention.key_length", c.n_heads > 0 ? c.d_model / c.n_heads : 0));
  c.context_length = static_cast<int>(f.get_int(p + "context_length", 2048));
  c.rms_eps = static_cast<float>(f.get_float(p + "attention.layer_norm_rms_epsilon", 1e-5));
  if (c.n_layers <= 0 || c.n_layers > 1024 || c.d_model <= 0 || c.n_heads <= 0 ||
      c.n_kv_heads <= 0 || c.n_heads % c.n_kv_heads != 0 || c.head_dim <= 0 ||
      c.head_dim % 2 != 0 || c.d_ff <= 0)
    f.fail("inconsistent " + arch + " hyper-parameters");
  const TensorNames& names = tensor_names(c.arch);
  const TensorInfo& emb = f.tensor(names.token_embd);
  if (emb.dims.size() != 2 || emb.dims[0] != c.d_model)
    f.fail(std::string(names.token_embd) + " has a wrong shape");
  c.vocab = static_cast<int>(emb.dims[1]);
  c.tied_embeddings = f.find_tensor(names.output) == nullptr;
  c.qk_norm = names.attn_q_norm != nullptr;
  c.post_norms = names.post_attn_norm != nullptr;
  c.bos_id = static_cast<int>(f.get_int("tokenizer.ggml.bos_token_id", -1));
  c.eos_id = static_cast<int>(f.get_int("tokenizer.ggml.eos_token_id", -1));
  const float rope_base = static_cast<float>(f.get_float(p + "rope.freq_base", 10000.0));
  c.layers.resize(c.n_layers);
  if (c.arch == Arch::Llama) {
    // The converter permuted q/k rows for ggml's adjacent-pair RoPE; attention scores are the
    // same as Hugging Face's rotate-half on the unpermuted weights.
    c.rope_style = RopeStyle::AdjacentPairs;
    c.attn_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    for (LayerConfig& l : c.layers) l.rope_base = rope_base;
  } else {
    // Gemma 3 (HF Gemma3TextConfig): 5 sliding layers then 1 full one, so layer i is full when
    // (i+1) % 6 == 0; sliding layers use RoPE base 10000 and the GGUF base (1e6) is for the
    // full ones. The window counts keys including self. query_pre_attn_scalar is head_dim for
    // the 270M model; norms are stored with the +1 already added by llama.cpp's converter
    // (transformers subtracts it back on load), so the plain x*w RMSNorm applies.
    c.rope_style = RopeStyle::Halves;
    const float qpas =
        static_cast<float>(f.get_float(p + "attention.query_pre_attn_scalar", c.head_dim));
    c.attn_scale = 1.0f / std::sqrt(qpas);
    c.embed_scale = std::sqrt(static_cast<float>(c.d_model));
    c.final_softcap = static_cast<float>(f.get_float(p + "final_logit_softcapping", 0.0));
    c.gelu_tanh = true;
    const int window = static_cast<int>(f.get_int(p + "attention.sliding_window", 0));
    const int pattern = 6;
    for (int i = 0; i < c.n_layers; ++i) {
      LayerConfig& l = c.layers[i];
      const bool full = (i + 1) % pattern == 0;
      l.window = full ? 0 : window;
      l.convention = attn::WindowConvention::IncludingSelf;
      l.rope_base = full ? rope_base : 10000.0f;
    }
  }
  return c;
}

}  // namespace core::model
