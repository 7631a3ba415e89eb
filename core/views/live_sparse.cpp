#include "core/views/live_sparse.h"

#include <cstdio>

#include "core/session/live_runs.h"
#include "core/views/mask_grid.h"

namespace core {
namespace {

std::string file_name(const std::string& path) {
  const size_t s = path.find_last_of('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

}  // namespace

LiveSparseCost build_live_sparse(const LiveResult& r) {
  LiveSparseCost c;
  if (!r.pass || !r.config || r.pass->variant.sparse_local <= 0) return c;
  const ModelVariant& v = r.pass->variant;
  c.active = true;
  c.n = static_cast<int>(r.pass->tokens.size());
  c.global = v.sparse_global;
  c.local = v.sparse_local;
  c.random = v.sparse_random;
  c.seed = v.sparse_seed;
  Scene s;  // the prompt as a sparse scene: the pair count `attnlab stats` prints
  s.seq_len = c.n;
  s.mask = attn::MaskKind::Sparse;
  s.sparse = {c.global, c.local, c.random, c.seed};
  c.visible_pairs = count_visible_pairs(s);
  c.dense_pairs = static_cast<int64_t>(c.n) * (c.n + 1) / 2;
  for (const model::LayerConfig& lc : r.config->layers)
    if (lc.window > 0) c.native_dense = false;
  char buf[256];
  std::snprintf(buf, sizeof buf, "sparse: %lld of %lld pairs (%.1f%%) on the %d-token prompt",
                static_cast<long long>(c.visible_pairs), static_cast<long long>(c.dense_pairs),
                c.dense_pairs > 0 ? 100.0 * c.visible_pairs / c.dense_pairs : 0.0, c.n);
  c.status = buf;
  const LivePerplexity* p = r.perplexity.get();
  if (p && p->setting == perplexity_setting(v, r.pass->kv_heads)) {
    c.has_ppl = true;
    c.ppl_sparse = p->variant;
    c.ppl_dense = p->native;
    c.ppl_tokens = p->n_tokens;
    c.ppl_text = file_name(p->text_path);
    std::snprintf(buf, sizeof buf, ", ppl %.2f vs %s %.2f (%s, %d tokens)", c.ppl_sparse,
                  c.native_dense ? "dense" : "native", c.ppl_dense, c.ppl_text.c_str(),
                  c.ppl_tokens);
    c.status += buf;
  } else {
    c.status += ", perplexity pending";
  }
  return c;
}

}  // namespace core
