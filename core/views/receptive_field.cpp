#include "core/views/receptive_field.h"

#include <algorithm>
#include <cstdio>

#include "core/scene/presets.h"
#include "core/views/key_intervals.h"

namespace core {
namespace {

bool windowed_kind(attn::MaskKind k) {
  return k == attn::MaskKind::SlidingWindow || k == attn::MaskKind::Chunked ||
         k == attn::MaskKind::BlockDiagonal;
}

// The mask layer `layer` applies: global layers drop the window and keep everything else
// (a packed prompt stays packed on a global layer).
attn::MaskSpec layer_spec(const Scene& s, attn::MaskSpec spec, int layer) {
  if (windowed_kind(s.mask) && layer_is_global(s, layer)) spec.window = 0;
  return spec;
}

void fill_coverage(LayerReach& lr, const std::vector<uint8_t>* reached, int bins, int bw, int n) {
  lr.coverage.assign(bins, 0.0f);
  for (int b = 0; b < bins; ++b) {
    const int p0 = b * bw, p1 = std::min(n, p0 + bw);  // [p0, p1)
    int64_t hit = 0;
    if (reached) {
      for (int p = p0; p < p1 && p < static_cast<int>(reached->size()); ++p) hit += (*reached)[p];
    } else {
      hit = std::max(0, std::min(p1, lr.hi + 1) - std::max(p0, lr.lo));
    }
    lr.coverage[b] = static_cast<float>(hit) / static_cast<float>(p1 - p0);
  }
}

}  // namespace

int64_t closed_form_reach(int64_t layers, int window, attn::WindowConvention c) {
  const int d = attn::window_max_distance(window, c);
  if (d < 0) return -1;
  return layers * d + 1;
}

ReceptiveField build_receptive_field(const Scene& s, int max_bins) {
  std::vector<int32_t> ends;
  const attn::MaskSpec spec = mask_spec(s, ends);
  ReceptiveField rf;
  rf.query = s.query;
  rf.n = s.seq_len;
  rf.window = spec.window;
  rf.convention = spec.convention;
  const int d = attn::window_max_distance(spec.window, spec.convention);
  rf.per_layer = windowed_kind(s.mask) && d >= 0 ? d : 0;
  rf.bin_width = (s.seq_len + std::max(1, max_bins) - 1) / std::max(1, max_bins);
  rf.bins = (s.seq_len + rf.bin_width - 1) / rf.bin_width;
  const int q = s.query;

  if (s.mask == attn::MaskKind::Sparse) {
    // Sparse reach has holes, so propagate sets: every reached position adds its visible keys
    // to a difference array (the intervals of for_each_sparse_interval, unsorted: the
    // difference array does not need them sorted or disjoint). Every layer applies the same
    // pattern, so once a layer leaves the set unchanged all later layers are copies: a 131k-token
    // sequence settles in a few layers.
    std::vector<uint8_t> reached(q + 1, 0), next(q + 1, 0);
    reached[q] = 1;
    std::vector<int> diff(q + 2);
    bool settled = false;
    for (int l = 0; l < s.n_layers; ++l) {
      if (settled) {
        LayerReach copy = rf.layers.back();
        copy.layer = l + 1;
        rf.layers.push_back(std::move(copy));
        continue;
      }
      std::fill(diff.begin(), diff.end(), 0);
      auto add = [&](int lo, int hi) {
        ++diff[lo];
        --diff[hi + 1];
      };
      for (int j = 0; j <= q; ++j)
        if (reached[j]) for_each_sparse_interval(j, spec, add);
      LayerReach lr;
      lr.layer = l + 1;
      lr.global = false;
      lr.theoretical = -1;
      // A sparse pattern with no local band does not even keep the query itself, and one
      // with nothing at all reaches nobody: lo/hi are the true extremes, [0, -1] when empty.
      int run = 0;
      lr.lo = q + 1;
      lr.hi = -1;
      for (int k = 0; k <= q; ++k) {
        run += diff[k];
        next[k] = run > 0;
        if (next[k]) {
          ++lr.count;
          lr.lo = std::min(lr.lo, k);
          lr.hi = k;
        }
      }
      if (lr.count == 0) lr.lo = 0;
      lr.contiguous = lr.count == lr.hi - lr.lo + 1;
      settled = next == reached;
      reached.swap(next);
      fill_coverage(lr, &reached, rf.bins, rf.bin_width, rf.n);
      rf.layers.push_back(std::move(lr));
    }
    return rf;
  }

  // Interval masks: the reached set is always [lo, q]. Each windowed layer moves lo back by
  // D = window_max_distance, a global layer (or no window) takes it to the floor, and a packed
  // prompt never reaches before its own segment start.
  attn::MaskSpec own_segment = spec;  // the query's prompt, without a window
  own_segment.kind = attn::MaskKind::BlockDiagonal;
  own_segment.window = 0;
  std::vector<KeyInterval> iv;
  visible_key_intervals(q, own_segment, iv);
  const int floor_pos = s.mask == attn::MaskKind::BlockDiagonal ? iv.front().lo : 0;
  bool saw_global = !windowed_kind(s.mask) || spec.window <= 0;
  for (int l = 0; l < s.n_layers; ++l) {
    LayerReach lr;
    lr.layer = l + 1;
    lr.global = !windowed_kind(s.mask) || layer_is_global(s, l);
    saw_global = saw_global || lr.global;
    lr.theoretical = saw_global ? -1 : closed_form_reach(l + 1, spec.window, spec.convention);
    lr.hi = q;
    if (saw_global) {
      lr.lo = floor_pos;
    } else {
      lr.lo = static_cast<int>(std::max<int64_t>(floor_pos, q - (lr.theoretical - 1)));
    }
    lr.count = lr.hi - lr.lo + 1;
    fill_coverage(lr, nullptr, rf.bins, rf.bin_width, rf.n);
    rf.layers.push_back(std::move(lr));
  }
  return rf;
}

std::string describe_reach_cell(const ReceptiveField& rf, int row, int col) {
  if (row < 0 || col < 0 || row >= static_cast<int>(rf.layers.size()) || col >= rf.bins) return "";
  const LayerReach& lr = rf.layers[row];
  const int p0 = col * rf.bin_width, p1 = std::min(rf.n, p0 + rf.bin_width) - 1;
  const float c = lr.coverage[col];
  char buf[200];
  if (p0 == p1)
    std::snprintf(buf, sizeof buf, "after layer %d: position %d %s query %d", lr.layer, p0,
                  c > 0 ? "reaches" : "does not reach", rf.query);
  else
    std::snprintf(buf, sizeof buf, "after layer %d: %.0f%% of positions %d..%d reach query %d",
                  lr.layer, 100.0 * c, p0, p1, rf.query);
  std::string s = buf;
  if (lr.global) s += " (global layer)";
  return s;
}

std::vector<std::vector<uint8_t>> propagate_reach_brute_force(const Scene& s) {
  std::vector<int32_t> ends;
  const attn::MaskSpec spec = mask_spec(s, ends);
  const int n = s.seq_len;
  std::vector<uint8_t> reached(n, 0);
  reached[s.query] = 1;
  std::vector<std::vector<uint8_t>> out;
  for (int l = 0; l < s.n_layers; ++l) {
    const attn::MaskSpec ls = layer_spec(s, spec, l);
    std::vector<uint8_t> next(n, 0);
    for (int j = 0; j < n; ++j) {
      if (!reached[j]) continue;
      for (int k = 0; k < n; ++k)
        if (attn::visible(j, k, ls)) next[k] = 1;
    }
    reached = next;
    out.push_back(reached);
  }
  return out;
}

}  // namespace core
