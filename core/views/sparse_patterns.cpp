#include "core/views/sparse_patterns.h"

#include <algorithm>

#include "core/views/mask_grid.h"
#include "core/views/receptive_field.h"

namespace core {

int64_t longformer_causal_pairs(int n, int g, int l) {
  int64_t total = 0;
  for (int64_t q = 0; q < n; ++q) {
    if (q < g) {
      total += q + 1;
      continue;
    }
    const int64_t band = std::min<int64_t>(l, q + 1);  // keys [q - band + 1, q]
    const int64_t band_lo = q - band + 1;
    const int64_t overlap = band > 0 ? std::max<int64_t>(0, g - band_lo) : 0;
    total += g + band - overlap;
  }
  return total;
}

std::vector<int64_t> encoder_reach(const attn::MaskSpec& m, int n, int query, int layers) {
  std::vector<int64_t> out;
  std::vector<uint8_t> reached(n, 0), next(n, 0);
  reached[query] = 1;
  std::vector<int> diff(n + 1);
  const int g = std::min(m.sparse_global, n), l = m.sparse_local;
  for (int layer = 0; layer < layers; ++layer) {
    // Influence flows from key k to query p when p sees k; the set that reaches `query`
    // grows by the keys every reached position sees.
    std::fill(diff.begin(), diff.end(), 0);
    auto add = [&](int lo, int hi) {  // inclusive, clipped
      lo = std::max(lo, 0);
      hi = std::min(hi, n - 1);
      if (lo > hi) return;
      ++diff[lo];
      --diff[hi + 1];
    };
    for (int p = 0; p < n; ++p) {
      if (!reached[p]) continue;
      add(p, p);
      if (p < g) {
        add(0, n - 1);
        continue;
      }
      add(0, g - 1);
      if (l > 0) add(p - l + 1, p + l - 1);
      for (int i = 0; i < m.sparse_random; ++i) {
        const int k = attn::sparse_random_key(p, i, m.sparse_seed);
        add(k, k);
      }
    }
    int run = 0;
    int64_t count = 0;
    for (int p = 0; p < n; ++p) {
      run += diff[p];
      next[p] = run > 0 ? 1 : 0;
      count += next[p];
    }
    const bool settled = next == reached;
    reached.swap(next);
    out.push_back(count);
    if (settled) {  // every later layer applies the same pattern to the same set
      out.resize(layers, count);
      break;
    }
  }
  return out;
}

Scene sparse_scene(const Scene& s, int random) {
  Scene out = s;
  out.mask = attn::MaskKind::Sparse;
  out.sparse.random = random;
  return out;
}

SparsePatterns build_sparse_patterns(const Scene& s) {
  SparsePatterns r;
  r.n = s.seq_len;
  r.global = s.sparse.global;
  r.local = s.sparse.local;
  r.random = s.sparse.random;
  r.seed = s.sparse.seed;
  r.query = s.query;
  r.dense_causal_pairs = static_cast<int64_t>(r.n) * (r.n + 1) / 2;
  r.longformer_pairs = longformer_causal_pairs(r.n, r.global, r.local);
  const Scene sparse = sparse_scene(s, s.sparse.random);
  r.longformer_grid = build_mask_grid(sparse_scene(s, 0), kSparseGridCells);
  r.bigbird_grid = build_mask_grid(sparse, kSparseGridCells);
  r.bigbird_pairs = count_visible_pairs(sparse);
  r.visible_pairs = r.random > 0 ? r.bigbird_pairs : r.longformer_pairs;
  const ReceptiveField rf = build_receptive_field(sparse, 1);
  for (const LayerReach& lr : rf.layers) r.reach_causal.push_back(lr.count);
  std::vector<int32_t> ends;
  const attn::MaskSpec spec = mask_spec(sparse, ends);
  r.reach_encoder = encoder_reach(spec, r.n, r.query, s.n_layers);
  for (size_t l = 0; l < r.reach_causal.size(); ++l)
    if (r.layers_to_all_causal < 0 && r.reach_causal[l] == r.query + 1)
      r.layers_to_all_causal = static_cast<int>(l) + 1;
  for (size_t l = 0; l < r.reach_encoder.size(); ++l)
    if (r.layers_to_all_encoder < 0 && r.reach_encoder[l] == r.n)
      r.layers_to_all_encoder = static_cast<int>(l) + 1;
  return r;
}

}  // namespace core
