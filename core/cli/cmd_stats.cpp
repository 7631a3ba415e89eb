// `attnlab stats --scene FILE`: the numbers behind the five views, as JSON on stdout, so
// lecture notes and scripts can quote them instead of reading them off a figure.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/attention/mask_names.h"
#include "core/cli/commands.h"
#include "core/scene/presets.h"
#include "core/scene/scene_json.h"
#include "core/views/flash_tiling.h"
#include "core/views/head_groups.h"
#include "core/views/kv_memory.h"
#include "core/views/mask_grid.h"
#include "core/views/mla.h"
#include "core/views/paged_view.h"
#include "core/views/receptive_field.h"
#include "core/views/ring_state.h"
#include "core/views/sparse_patterns.h"

namespace core::cli {

namespace {

// Part 6: FlashAttention tiling, PagedAttention, MLA and sparse patterns.
void add_system_stats(nlohmann::ordered_json& out, const Scene& s) {
  const FlashTiling f = build_flash_tiling(s, false);
  out["flash"] = {{"version", f.version},
                  {"sram_bytes", f.sram_bytes},
                  {"block_rows", f.sizes.block_rows},
                  {"block_cols", f.sizes.block_cols},
                  {"tiles_total", f.grid.total},
                  {"tiles_skipped", f.grid.skipped},
                  {"tiles_masked", f.grid.masked},
                  {"tiles_full", f.grid.full},
                  {"hbm_bytes_standard", f.hbm_bytes_standard},
                  {"hbm_bytes_tiled", f.hbm_bytes_tiled},
                  {"hbm_bytes_fa1", f.hbm.fa1 * f.elem_bytes},
                  {"hbm_bytes_fa2", f.hbm.fa2 * f.elem_bytes},
                  {"hbm_bound_elems", f.hbm.bound},
                  {"rescales_fa1", f.schedule.rescales_fa1},
                  {"rescales_fa2", f.schedule.rescales_fa2},
                  {"thread_blocks_fa1", f.schedule.thread_blocks_fa1},
                  {"thread_blocks_fa2", f.schedule.thread_blocks_fa2},
                  {"kernel_tiles", f.kernel.tiles},
                  {"kernel_tiles_skipped", f.kernel.tiles_skipped},
                  {"kernel_bytes_kv", f.kernel.bytes_kv}};
  const PagedView p = build_paged_view(s);
  out["paged"] = {{"block", p.block},
                  {"blocks_used", p.counts.blocks_used},
                  {"blocks_unshared", p.counts.blocks_unshared},
                  {"slots_wasted", p.counts.slots_wasted},
                  {"bytes_wasted", p.bytes_wasted},
                  {"utilisation", p.utilisation},
                  {"contiguous_utilisation", p.contiguous_utilisation},
                  {"cow_copies", p.counts.cow_copies}};
  const MlaCosts m = build_mla_costs(s);
  out["mla"] = {{"latent", m.latent},
                {"rope_dim", m.rope_dim},
                {"bytes_per_token", m.bytes_per_token_mla},
                {"bytes_per_token_mha", m.bytes_per_token_mha},
                {"bytes_per_token_gqa", m.bytes_per_token_gqa},
                {"bytes_per_token_mqa", m.bytes_per_token_mqa},
                {"decode_flops_plain", m.flops_plain},
                {"decode_flops_absorbed", m.flops_absorbed},
                {"decode_bytes_plain", m.bytes_plain},
                {"decode_bytes_absorbed", m.bytes_absorbed}};
  const SparsePatterns sp = build_sparse_patterns(s);
  out["sparse"] = {{"visible_pairs", sp.visible_pairs},
                   {"dense_causal_pairs", sp.dense_causal_pairs},
                   {"longformer_pairs", sp.longformer_pairs},
                   {"bigbird_pairs", sp.bigbird_pairs},
                   {"layers_to_all_causal", sp.layers_to_all_causal},
                   {"layers_to_all_encoder", sp.layers_to_all_encoder}};
}

}  // namespace

nlohmann::ordered_json scene_stats(const Scene& s) {
  nlohmann::ordered_json out;
  out["preset"] = architecture_preset(s);
  out["seq_len"] = s.seq_len;

  const int64_t visible = count_visible_pairs(s);
  const int64_t causal = static_cast<int64_t>(s.seq_len) * (s.seq_len + 1) / 2;
  std::vector<int32_t> segment_ends;
  const attn::MaskSpec spec = mask_spec(s, segment_ends);
  out["mask"] = {{"kind", mask_kind_name(s.mask)},
                 {"xformers", attn::xformers_mask_name(spec)},
                 {"visible_pairs", visible},
                 {"causal_pairs", causal},
                 {"ratio", static_cast<double>(visible) / static_cast<double>(causal)}};

  const ReceptiveField rf = build_receptive_field(s, 1);
  nlohmann::ordered_json reach = nlohmann::ordered_json::array(),
                         theory = nlohmann::ordered_json::array();
  for (const LayerReach& lr : rf.layers) {
    reach.push_back(lr.count);
    // null: unbounded (a global layer, or no window), every earlier position can reach q.
    if (lr.theoretical < 0)
      theory.push_back(nullptr);
    else
      theory.push_back(lr.theoretical);
  }
  out["receptive_field"] = {{"query", s.query},
                            {"window", rf.window},
                            {"window_convention", window_convention_name(rf.convention)},
                            {"per_layer", rf.per_layer},
                            {"reach_per_layer", reach},
                            {"theoretical_reach_per_layer", theory}};

  const KvMemorySeries kv = build_kv_memory(s, 2);
  out["kv_cache"] = {{"dtype", dtype_name(s.dtype)}, {"batch", s.batch},
                     {"seq_len", s.seq_len},         {"bytes_per_token", kv.bytes_per_token},
                     {"bytes_full", kv.bytes_full},  {"bytes_rolling", kv.bytes_rolling},
                     {"bytes_mla", kv.bytes_mla}};

  Scene ring_scene = s;
  ring_scene.chunk = 0;  // the chunk table is a picture, not a number to quote
  const RingState r = build_ring_state(ring_scene);
  out["ring"] = {{"window", r.window},
                 {"step", r.step},
                 {"write_ptr", r.write_ptr},
                 {"evicted", r.evicted},
                 {"slots", r.slots}};

  const HeadGroups g = build_head_groups(s);
  out["groups"] = {{"label", g.label},
                   {"group_size", g.group_size},
                   {"kv_head_of", g.kv_head_of},
                   {"kv_bytes_per_token", g.kv_bytes_per_token},
                   {"kv_proj_params_per_layer", g.kv_proj_params_per_layer},
                   {"kv_proj_params_total", g.kv_proj_params_total}};
  add_system_stats(out, s);
  return out;
}

int cmd_stats(int argc, char** argv) {
  std::string path;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf(
          "usage: attnlab stats --scene FILE\n"
          "prints the numbers behind the views as JSON: mask.*, receptive_field.*,\n"
          "kv_cache.*, ring.*, groups.*, flash.*, paged.*, mla.*, sparse.* (see README).\n"
          "Exit 2 on a bad scene.\n");
      return 0;
    } else if (std::strcmp(argv[i], "--scene") == 0 && i + 1 < argc) {
      path = argv[++i];
    } else if (std::strncmp(argv[i], "--scene=", 8) == 0) {
      path = argv[i] + 8;
    } else {
      std::fprintf(stderr,
                   "attnlab stats: unknown argument '%s'\nusage: attnlab stats --scene FILE\n",
                   argv[i]);
      return 2;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: attnlab stats --scene FILE\n");
    return 2;
  }
  Scene scene;
  std::vector<std::string> warnings;
  try {
    scene = load_scene(path, warnings);
  } catch (const SceneError& e) {
    std::fprintf(stderr, "attnlab stats: %s\n", e.what());
    return 2;
  }
  for (const std::string& w : warnings)
    std::fprintf(stderr, "attnlab stats: %s: warning: %s\n", path.c_str(), w.c_str());
  std::cout << scene_stats(scene).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
  return 0;
}

}  // namespace core::cli
