#include "core/views/head_groups.h"

#include "core/views/kv_memory.h"

namespace core {

const char* attention_kind_label(int n_heads, int n_kv_heads) {
  if (n_kv_heads == n_heads) return "MHA";
  if (n_kv_heads == 1) return "MQA";
  return "GQA";
}

HeadGroups build_head_groups(const Scene& s) {
  HeadGroups g;
  g.n_heads = s.n_heads;
  g.n_kv_heads = s.n_kv_heads;
  g.group_size = s.n_heads / s.n_kv_heads;
  g.group_sizes.assign(s.n_kv_heads, 0);
  for (int h = 0; h < s.n_heads; ++h) {
    const int kv = attn::kv_head_of(h, s.n_heads, s.n_kv_heads);
    g.kv_head_of.push_back(kv);
    ++g.group_sizes[kv];
  }
  g.kv_bytes_per_token = kv_bytes_per_token(s, s.n_kv_heads);
  g.kv_bytes_per_token_mha = kv_bytes_per_token(s, s.n_heads);
  // W_k and W_v each map d_model to n_kv · head_dim.
  g.kv_proj_params_per_layer = 2LL * s.d_model * s.n_kv_heads * s.head_dim;
  g.kv_proj_params_total = g.kv_proj_params_per_layer * s.n_layers;
  g.label = attention_kind_label(s.n_heads, s.n_kv_heads);
  return g;
}

}  // namespace core
