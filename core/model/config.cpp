#include "core/model/config.h"

#include <cmath>

#include "core/model/tensor_names.h"
#include "core/model/validate.h"

namespace core::model {

const char* arch_name(Arch a) {
  return a == Arch::Llama ? "llama" : "gemma3";
}

namespace {

// An integer key checked against lo..hi before it narrows to int; `fallback` when absent.
int get_ranged(const GgufFile& f, const std::string& key, int64_t lo, int64_t hi,
               std::optional<int64_t> fallback = std::nullopt) {
  if (!f.has(key) && fallback) return static_cast<int>(*fallback);
  const int64_t v = f.get_int(key);
  if (v < lo || v > hi)
    f.fail("metadata " + key + " = " + std::to_string(v) + " is out of range (allowed " +
           std::to_string(lo) + ".." + std::to_string(hi) + ")");
  return static_cast<int>(v);
}

// A float key that must be finite and above `above` (and at most `at_most`).
double get_positive(const GgufFile& f, const std::string& key, double fallback, double above,
                    double at_most, const char* allowed) {
  const double v = f.get_float(key, fallback);
  if (!std::isfinite(v) || !(v > above) || !(v <= at_most))
    f.fail("metadata " + key + " = " + std::to_string(v) + " is out of range (" + allowed + ")");
  return v;
}

}  // namespace

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
  c.n_layers = get_ranged(f, p + "block_count", 1, kMaxLayers);
  c.d_model = get_ranged(f, p + "embedding_length", 1, kMaxWidth);
  c.d_ff = get_ranged(f, p + "feed_forward_length", 1, kMaxWidth * 16);
  c.n_heads = get_ranged(f, p + "attention.head_count", 1, kMaxHeads);
  c.n_kv_heads = get_ranged(f, p + "attention.head_count_kv", 1, c.n_heads, c.n_heads);
  if (c.n_heads % c.n_kv_heads != 0)
    f.fail("metadata " + p + "attention.head_count_kv = " + std::to_string(c.n_kv_heads) +
           " does not divide " + p + "attention.head_count = " + std::to_string(c.n_heads));
  if (!f.has(p + "attention.key_length") && c.d_model % c.n_heads != 0)
    f.fail("metadata " + p + "attention.key_length is missing and " + p +
           "embedding_length is not a multiple of the head count");
  c.head_dim = get_ranged(f, p + "attention.key_length", 2, kMaxHeadDim, c.d_model / c.n_heads);
  c.context_length = get_ranged(f, p + "context_length", 1, kMaxContext, 2048);
  c.rms_eps = static_cast<float>(
      get_positive(f, p + "attention.layer_norm_rms_epsilon", 1e-5, 0, 1, "finite, in (0, 1]"));
  const TensorNames& names = tensor_names(c.arch);
  const std::string embd = names.token_embd;
  const TensorInfo& emb = f.tensor(embd);
  if (emb.dims.size() != 2 || emb.dims[0] != c.d_model)
    f.fail("tensor " + embd + " has a wrong shape (rows of " + p +
           "embedding_length = " + std::to_string(c.d_model) + " expected)");
  if (emb.dims[1] > kMaxVocab)
    f.fail("tensor " + embd + " has " + std::to_string(emb.dims[1]) + " rows (at most " +
           std::to_string(kMaxVocab) + ")");
  c.vocab = static_cast<int>(emb.dims[1]);
  c.tied_embeddings = f.find_tensor(names.output) == nullptr;
  c.qk_norm = names.attn_q_norm != nullptr;
  c.post_norms = names.post_attn_norm != nullptr;
  c.bos_id = get_ranged(f, "tokenizer.ggml.bos_token_id", -1, c.vocab - 1, -1);
  c.eos_id = get_ranged(f, "tokenizer.ggml.eos_token_id", -1, c.vocab - 1, -1);
  const float rope_base = static_cast<float>(
      get_positive(f, p + "rope.freq_base", 10000.0, 1, 1e12, "finite, in (1, 1e12]"));
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
    const double qpas = get_positive(f, p + "attention.query_pre_attn_scalar", c.head_dim, 0, 1e9,
                                     "finite, in (0, 1e9]");
    c.attn_scale = static_cast<float>(1.0 / std::sqrt(qpas));
    c.embed_scale = std::sqrt(static_cast<float>(c.d_model));
    c.final_softcap = static_cast<float>(
        get_positive(f, p + "final_logit_softcapping", 0.0, -1, 1e9, "finite, 0 = none, else > 0"));
    if (c.final_softcap < 0)
      f.fail("metadata " + p + "final_logit_softcapping is negative (0 = none)");
    c.gelu_tanh = true;
    const int window =
        get_ranged(f, p + "attention.sliding_window", 0, c.context_length, int64_t{0});
    const int pattern = 6;
    for (int i = 0; i < c.n_layers; ++i) {
      LayerConfig& l = c.layers[i];
      const bool full = (i + 1) % pattern == 0;
      l.window = full ? 0 : window;
      l.convention = attn::WindowConvention::IncludingSelf;
      l.rope_base = full ? rope_base : 10000.0f;
    }
  }
  validate_model(f, c);
  return c;
}

}  // namespace core::model
