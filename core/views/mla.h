// Multi-head Latent Attention (DeepSeek-V2, Section 2.1): each token caches one latent
// c_KV of width d_c plus one decoupled RoPE key of width d_R, shared by all heads, instead
// of a key and a value per head. The heads' keys and values are up-projections of c_KV
// (W_UK, W_UV), which at decode can be absorbed into the query and the output projection.
#pragma once

#include <cstdint>
#include <string>

#include "core/scene/scene.h"

namespace core {

struct MlaCosts {
  int n_layers = 0, n_heads = 0, head_dim = 0;  // n_h, d_h (qk_nope_head_dim = v_head_dim)
  int latent = 0, rope_dim = 0;                 // d_c, d_R
  int n_kv_heads = 0;                           // GQA groups n_g of the comparison line
  int elem_bytes = 0;
  int context = 0;  // T: cached tokens a decode step attends to (seq_len)

  // KV cache per token, all layers (DeepSeek-V2 Table 1, times element bytes).
  int64_t bytes_per_token_mla = 0;  // (d_c + d_R) l
  int64_t bytes_per_token_mha = 0;  // 2 n_h d_h l
  int64_t bytes_per_token_gqa = 0;  // 2 n_g d_h l
  int64_t bytes_per_token_mqa = 0;  // 2 d_h l

  // One decode step, one layer, T cached tokens; FLOPs are 2 x multiply-adds.
  // Without absorption every cached latent is up-projected to K and V for every head
  // (2 T n_h d_h d_c), then scored (T n_h (d_h + d_R)) and mixed (T n_h d_h).
  // With absorption the query is projected into latent space once (n_h d_h d_c), scored
  // against the latents (T n_h (d_c + d_R)), mixed in latent space (T n_h d_c), and the
  // result goes up through W_UV once (n_h d_c d_h).
  int64_t flops_plain = 0;
  int64_t flops_absorbed = 0;
  // Bytes read and written: both read the cache (T (d_c + d_R)) and W_UK, W_UV
  // (2 n_h d_h d_c); without absorption the up-projected K and V (T n_h 2 d_h) are also
  // written out and read back.
  int64_t bytes_plain = 0;
  int64_t bytes_absorbed = 0;
};

MlaCosts build_mla_costs(const Scene& scene);

// KV cache bytes per token over all layers under MLA: (mla.latent + mla.rope_dim) x n_layers
// x element bytes (batch 1). The one rule the mla view and the KV-memory view's MLA line use.
int64_t mla_bytes_per_token(const Scene& scene);

// What the mla figure shows, one element each: the four cache bars, the five boxes of the
// projection flow and the four decode-cost bars. A hover area's row is one of these.
enum class MlaItem : int {
  CacheMha,
  CacheGqa,
  CacheMqa,
  CacheMla,
  Hidden,   // h_t
  Latent,   // c_KV
  RopeKey,  // k_R
  Keys,     // k_C
  Values,   // v_C
  FlopsPlain,
  FlopsAbsorbed,
  BytesPlain,
  BytesAbsorbed,
};
inline constexpr int kMlaItems = 13;

// Hover text of one element: the quantity, its width and its bytes (exact, then readable).
// `d_model` is the hidden width h_t has. "" for an item outside MlaItem.
std::string describe_mla_item(const MlaCosts& c, int item, int d_model);

}  // namespace core
