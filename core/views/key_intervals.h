// A query row of a mask as a few key intervals instead of N visibility calls: the one
// interval form of spec.h's rules that the mask grid (pair counts, downsampled cells) and the
// receptive field (reach propagation) share.
#pragma once

#include <algorithm>
#include <vector>

#include "core/attention/spec.h"

namespace core {

// One visible key interval [lo, hi] (inclusive) of a query row.
struct KeyInterval {
  int lo = 0, hi = -1;
};

// The sparse pattern's visible keys of query q >= 0 as intervals, unsorted and possibly
// overlapping: a global query sees [0, q]; any other sees the global prefix [0, G-1], the
// local band of L keys including self, and each of its R random keys. Calls fn(lo, hi).
template <class Fn>
void for_each_sparse_interval(int q, const attn::MaskSpec& m, Fn&& fn) {
  if (q < m.sparse_global) {
    fn(0, q);
    return;
  }
  if (m.sparse_global > 0) fn(0, m.sparse_global - 1);
  if (m.sparse_local > 0) fn(std::max(0, q - m.sparse_local + 1), q);
  for (int i = 0; i < m.sparse_random; ++i) {
    const int k = attn::sparse_random_key(q, i, m.sparse_seed);
    fn(k, k);
  }
}

// The visible keys of query q as sorted disjoint intervals (appended to `out` after clearing).
// Equivalent to attn::visible(q, k, spec) for every k (tests check it), but costs O(intervals).
void visible_key_intervals(int q, const attn::MaskSpec& spec, std::vector<KeyInterval>& out);

}  // namespace core
