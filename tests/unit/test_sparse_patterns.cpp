// Sparse patterns: pair counts against attn::visible on every pair, reach against brute-force
// propagation with the spec.h rules, and the two-layer claim of the encoder form.
#include <gtest/gtest.h>

#include <vector>

#include "core/views/sparse_patterns.h"

namespace {

attn::MaskSpec sparse(int g, int l, int r, uint32_t seed) {
  attn::MaskSpec m;
  m.kind = attn::MaskKind::Sparse;
  m.sparse_global = g;
  m.sparse_local = l;
  m.sparse_random = r;
  m.sparse_seed = seed;
  return m;
}

int64_t brute_pairs(const attn::MaskSpec& m, int n) {
  int64_t c = 0;
  for (int q = 0; q < n; ++q)
    for (int k = 0; k < n; ++k) c += attn::visible(q, k, m) ? 1 : 0;
  return c;
}

TEST(SparsePatterns, PairCountsMatchBruteForce) {
  for (int n : {1, 5, 64, 301})
    for (int g : {0, 1, 4, 70})
      for (int l : {0, 1, 8, 400})
        for (int r : {0, 3}) {
          core::Scene s;
          s.seq_len = n;
          s.query = n - 1;
          s.n_layers = 2;
          s.sparse = {g, l, r, 9};
          const core::SparsePatterns p = core::build_sparse_patterns(s);
          const std::string at = "n=" + std::to_string(n) + " g=" + std::to_string(g) +
                                 " l=" + std::to_string(l) + " r=" + std::to_string(r);
          EXPECT_EQ(p.longformer_pairs, brute_pairs(sparse(g, l, 0, 9), n)) << at;
          EXPECT_EQ(p.bigbird_pairs, brute_pairs(sparse(g, l, r, 9), n)) << at;
          EXPECT_EQ(p.dense_causal_pairs, brute_pairs(attn::MaskSpec(), n)) << at;
        }
}

// Reach by brute force: position k reaches the query after L layers when a chain
// k = p0 -> p1 -> ... -> pL = query has every p_{i+1} seeing p_i.
std::vector<int64_t> brute_reach(const attn::MaskSpec& m, int n, int query, int layers,
                                 bool encoder) {
  std::vector<uint8_t> reached(n, 0);
  reached[query] = 1;
  std::vector<int64_t> out;
  for (int l = 0; l < layers; ++l) {
    std::vector<uint8_t> next(n, 0);
    for (int p = 0; p < n; ++p)
      if (reached[p])
        for (int k = 0; k < n; ++k)
          if (k == p || (encoder ? attn::sparse_visible_encoder(p, k, m) : attn::visible(p, k, m)))
            next[k] = 1;
    reached = next;
    int64_t c = 0;
    for (uint8_t x : reached) c += x;
    out.push_back(c);
  }
  return out;
}

TEST(SparsePatterns, ReachMatchesBruteForcePropagation) {
  for (int n : {40, 129})
    for (int g : {0, 2})
      for (int r : {0, 2}) {
        core::Scene s;
        s.seq_len = n;
        s.query = n - 3;
        s.n_layers = 5;
        s.sparse = {g, 6, r, 4};
        const core::SparsePatterns p = core::build_sparse_patterns(s);
        const attn::MaskSpec m = sparse(g, 6, r, 4);
        EXPECT_EQ(p.reach_causal, brute_reach(m, n, s.query, 5, false));
        EXPECT_EQ(p.reach_encoder, brute_reach(m, n, s.query, 5, true));
      }
}

// With one global token or more, the encoder form connects every pair in two layers: any k
// is seen by a global token, which every query sees. Without globals a band of L needs
// about distance / (L - 1) layers.
TEST(SparsePatterns, GlobalTokensConnectEverythingInTwoLayersInTheEncoderForm) {
  core::Scene s;
  s.seq_len = 512;
  s.query = 300;
  s.n_layers = 4;
  s.sparse = {1, 8, 0, 1};
  const core::SparsePatterns p = core::build_sparse_patterns(s);
  EXPECT_EQ(p.layers_to_all_encoder, 2);
  EXPECT_LT(p.reach_encoder[0], s.seq_len);
  s.sparse.global = 0;
  EXPECT_EQ(core::build_sparse_patterns(s).layers_to_all_encoder, -1);
}

}  // namespace
