#include "core/views/key_intervals.h"

#include <cstdint>

namespace core {
namespace {

int segment_start(int q, const attn::MaskSpec& m) {
  // Same answer as attn::segment_of (first segment whose end is past q), by binary search.
  const int32_t* end = m.segment_ends + m.n_segments;
  const int32_t* it = std::upper_bound(m.segment_ends, end, q);
  return it == m.segment_ends ? 0 : *(it - 1);
}

int window_lo(int q, const attn::MaskSpec& m) {
  const int max_d = attn::window_max_distance(m.window, m.convention);
  return max_d < 0 ? 0 : std::max(0, q - max_d);
}

}  // namespace

void visible_key_intervals(int q, const attn::MaskSpec& m, std::vector<KeyInterval>& out) {
  out.clear();
  if (q < 0) return;
  switch (m.kind) {
    case attn::MaskKind::Causal:
      out.push_back({0, q});
      return;
    case attn::MaskKind::SlidingWindow:
    case attn::MaskKind::Chunked:
      out.push_back({window_lo(q, m), q});
      return;
    case attn::MaskKind::BlockDiagonal:
      out.push_back({std::max(window_lo(q, m), segment_start(q, m)), q});
      return;
    case attn::MaskKind::Sparse: {
      for_each_sparse_interval(q, m, [&](int lo, int hi) { out.push_back({lo, hi}); });
      if (out.empty()) return;
      std::sort(out.begin(), out.end(),
                [](const KeyInterval& a, const KeyInterval& b) { return a.lo < b.lo; });
      size_t w = 0;  // merge overlapping or touching intervals in place
      for (size_t i = 1; i < out.size(); ++i) {
        if (out[i].lo <= out[w].hi + 1)
          out[w].hi = std::max(out[w].hi, out[i].hi);
        else
          out[++w] = out[i];
      }
      out.resize(w + 1);
      return;
    }
  }
}

}  // namespace core
