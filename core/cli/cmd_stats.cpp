// `attnlab stats --scene FILE`: the numbers behind the five views, as JSON on stdout, so
// lecture notes and scripts can quote them instead of reading them off a figure.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/cli/commands.h"
#include "core/scene/presets.h"
#include "core/scene/scene_json.h"
#include "core/views/head_groups.h"
#include "core/views/kv_memory.h"
#include "core/views/mask_grid.h"
#include "core/views/receptive_field.h"
#include "core/views/ring_state.h"

namespace core::cli {

nlohmann::ordered_json scene_stats(const Scene& s) {
  nlohmann::ordered_json out;
  out["preset"] = architecture_preset(s);
  out["seq_len"] = s.seq_len;

  const int64_t visible = count_visible_pairs(s);
  const int64_t causal = static_cast<int64_t>(s.seq_len) * (s.seq_len + 1) / 2;
  out["mask"] = {{"kind", mask_kind_name(s.mask)},
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
                     {"bytes_full", kv.bytes_full},  {"bytes_rolling", kv.bytes_rolling}};

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
  return out;
}

int cmd_stats(int argc, char** argv) {
  std::string path;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf(
          "usage: attnlab stats --scene FILE\n"
          "prints the numbers behind the five views as JSON: mask.*, receptive_field.*,\n"
          "kv_cache.*, ring.*, groups.* (see README). Exit 2 on a bad scene.\n");
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
