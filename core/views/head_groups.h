// Grouped-query attention: n_heads query heads share n_kv_heads K/V heads in equal groups.
// MHA when the counts are equal, MQA at one K/V head, GQA in between.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/scene/scene.h"

namespace core {

struct HeadGroups {
  int n_heads = 0;
  int n_kv_heads = 0;
  int group_size = 0;                    // query heads per K/V head
  std::vector<int> kv_head_of;           // [n_heads] from attn::kv_head_of
  std::vector<int> group_sizes;          // [n_kv_heads]
  int64_t kv_bytes_per_token = 0;        // 2 · n_layers · n_kv · head_dim · dtype bytes
  int64_t kv_bytes_per_token_mha = 0;    // the same with n_kv = n_heads, for comparison
  int64_t kv_proj_params_per_layer = 0;  // 2 · d_model · n_kv · head_dim (W_k and W_v)
  int64_t kv_proj_params_total = 0;      // times n_layers
  std::string label;                     // "MHA", "GQA" or "MQA"
};

HeadGroups build_head_groups(const Scene& scene);

const char* attention_kind_label(int n_heads, int n_kv_heads);

}  // namespace core
