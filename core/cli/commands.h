// Entry points of the subcommands, one per core/cli/cmd_<name>.cpp. argv[0] is the name.
#pragma once

#include <nlohmann/json.hpp>

#include "core/scene/scene.h"

namespace core::cli {

// `attnlab stats --scene FILE`: prints scene_stats() as JSON. Exit 2 on a bad scene.
int cmd_stats(int argc, char** argv);

// `attnlab export --scene S.json --view V|all --format pdf|svg|png --out F ...` and
// `attnlab export --lecture L.json --out DIR`: figures through core/export. Exit 2 on bad input.
int cmd_export(int argc, char** argv);

// `attnlab live-bench [--model M] [--n 128,512]`: slider -> live attention view time and
// decode tokens/s with the KV cache vs none, on this machine. Exit 2 on bad flags.
int cmd_live_bench(int argc, char** argv);
// `attnlab generate --prompt P -n K [model and variant flags]`: greedy text, tok/s, cache bytes.
int cmd_generate(int argc, char** argv);
// `attnlab dump --prompt P --out F.json [--layers --heads] [flags]`: ids, top-10, attention.
int cmd_dump(int argc, char** argv);
// `attnlab ppl --text FILE [flags]`: perplexity. All three exit 2 on bad flags or files.
int cmd_ppl(int argc, char** argv);

// The numbers behind the five views (mask, receptive_field, kv_cache, ring, groups).
nlohmann::ordered_json scene_stats(const Scene& scene);

}  // namespace core::cli
