// Grouped-query attention on the real model: for one layer, each K/V group's query heads side
// by side (they share keys and values but not queries, so their maps differ), for the native
// model and for a run whose K/V heads were mean-pooled to fewer (e.g. SmolLM2 3 -> 1 = MQA),
// with the perplexity change that pooling costs on a text in assets/.
#pragma once

#include <string>
#include <vector>

#include "core/session/live_result.h"

namespace core {

struct LiveHeadMap {
  int head = 0;
  int kv_head = 0;
  std::vector<float> values;  // [thumb*thumb] max over blocks, NaN where masked
};

struct LiveGroupRow {
  std::string title;  // "native: 3 KV heads (GQA)" / "pooled: 1 KV head (MQA)"
  int kv_heads = 0;
  std::vector<LiveHeadMap> maps;  // [n_heads] ordered by group
};

struct LiveGroups {
  int layer = 0;
  int n = 0, n_heads = 0, thumb = 0;
  int native_kv = 0;
  std::vector<LiveGroupRow> rows;  // native, then the setting when it pools
  bool pooled = false;
  double mean_abs_change = 0;  // mean |p_pooled - p_native| over visible cells of the layer
  bool has_perplexity = false;
  double ppl_native = 0, ppl_pooled = 0;
  int ppl_tokens = 0;
  std::string ppl_text;
  std::string verdict;
};

LiveGroups build_live_groups(const LiveResult& r, int layer, int thumb_cells = 48);

}  // namespace core
