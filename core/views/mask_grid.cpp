#include "core/views/mask_grid.h"

#include <algorithm>
#include <atomic>
#include <cstdio>

namespace core {
namespace {

std::atomic<int64_t> g_builds{0};  // build_mask_grid calls (mask_grid_builds)

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
      if (q < m.sparse_global) {
        out.push_back({0, q});
        return;
      }
      if (m.sparse_global > 0) out.push_back({0, m.sparse_global - 1});
      if (m.sparse_local > 0) out.push_back({std::max(0, q - m.sparse_local + 1), q});
      for (int i = 0; i < m.sparse_random; ++i) {
        const int k = attn::sparse_random_key(q, i, m.sparse_seed);
        out.push_back({k, k});
      }
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

int64_t count_visible_pairs(const Scene& scene) {
  std::vector<int32_t> ends;
  const attn::MaskSpec spec = mask_spec(scene, ends);
  std::vector<KeyInterval> iv;
  int64_t total = 0;
  for (int q = 0; q < scene.seq_len; ++q) {
    visible_key_intervals(q, spec, iv);
    for (const KeyInterval& i : iv) total += i.hi - i.lo + 1;
  }
  return total;
}

int64_t mask_grid_builds() {
  return g_builds.load();
}

MaskGrid build_mask_grid(const Scene& scene, int max_cells) {
  ++g_builds;
  std::vector<int32_t> ends;
  const attn::MaskSpec spec = mask_spec(scene, ends);
  MaskGrid g;
  const int n = g.n = scene.seq_len;
  g.kind = scene.mask;
  g.window = spec.window;
  g.convention = spec.convention;
  max_cells = std::max(1, max_cells);
  g.block = (n + max_cells - 1) / max_cells;
  const int b = g.block;
  g.rows = g.cols = (n + b - 1) / b;
  g.cells.assign(static_cast<size_t>(g.rows) * g.cols, 0.0f);
  g.causal_pairs = static_cast<int64_t>(n) * (n + 1) / 2;

  // Each query row is a few key intervals, so a block row of the grid is built from partial
  // counts at interval ends plus a difference array for the key blocks an interval covers
  // whole: O(N · intervals + cells) instead of N² visibility calls.
  std::vector<int64_t> partial(g.cols), diff(g.cols + 1);
  std::vector<KeyInterval> iv;
  for (int r = 0; r < g.rows; ++r) {
    std::fill(partial.begin(), partial.end(), 0);
    std::fill(diff.begin(), diff.end(), 0);
    const int q0 = r * b, q1 = std::min(n, q0 + b);
    for (int q = q0; q < q1; ++q) {
      visible_key_intervals(q, spec, iv);
      for (const KeyInterval& i : iv) {
        g.visible_pairs += i.hi - i.lo + 1;
        const int ca = i.lo / b, cb = i.hi / b;
        if (ca == cb) {
          partial[ca] += i.hi - i.lo + 1;
          continue;
        }
        partial[ca] += (ca + 1) * b - i.lo;
        partial[cb] += i.hi - cb * b + 1;
        if (cb > ca + 1) {
          diff[ca + 1] += b;
          diff[cb] -= b;
        }
      }
    }
    int64_t run = 0;
    const double row_h = q1 - q0;
    for (int c = 0; c < g.cols; ++c) {
      run += diff[c];
      const double col_w = std::min(n, (c + 1) * b) - c * b;
      g.cells[static_cast<size_t>(r) * g.cols + c] =
          static_cast<float>((partial[c] + run) / (row_h * col_w));
    }
  }
  g.ratio = g.causal_pairs > 0 ? static_cast<double>(g.visible_pairs) / g.causal_pairs : 0.0;

  if (scene.mask == attn::MaskKind::Chunked && scene.chunk > 0)
    for (int p = scene.chunk; p < n && g.chunk_starts.size() < 4096; p += scene.chunk)
      g.chunk_starts.push_back(p);
  if (scene.mask == attn::MaskKind::BlockDiagonal)
    for (int32_t e : ends)
      if (e > 0 && e < n) g.segment_starts.push_back(e);
  return g;
}

std::string describe_mask_cell(const Scene& scene, int q, int k) {
  std::vector<int32_t> ends;
  const attn::MaskSpec m = mask_spec(scene, ends);
  char head[64];
  std::snprintf(head, sizeof head, "q=%d, k=%d: ", q, k);
  std::string s = head;
  if (q < 0 || k < 0 || q >= scene.seq_len || k >= scene.seq_len)
    return s + "outside the sequence (N=" + std::to_string(scene.seq_len) + ")";
  const int d = q - k;
  const std::string dist = "q-k=" + std::to_string(d);
  const std::string W = std::to_string(m.window);
  const bool incl = m.convention == attn::WindowConvention::IncludingSelf;
  const std::string bound = incl ? "W-1=" + std::to_string(m.window - 1) : "W=" + W;
  const std::string conv =
      incl ? "W=" + W + " keys including self" : std::string("self plus W previous");
  switch (attn::visibility(q, k, m)) {
    case attn::Reason::Visible:
      s += "visible";
      if (m.kind == attn::MaskKind::Sparse) {
        if (q < m.sparse_global)
          s += " (query is global: G=" + std::to_string(m.sparse_global) + ")";
        else if (k < m.sparse_global)
          s += " (global key: k < G=" + std::to_string(m.sparse_global) + ")";
        else if (d < m.sparse_local)
          s += " (local band: " + dist + " < L=" + std::to_string(m.sparse_local) + ")";
        else
          s += " (random key)";
      } else if (m.window > 0) {
        s += " (" + dist + " <= " + bound + ", " + conv + ")";
      } else {
        s += " (causal: k <= q)";
      }
      break;
    case attn::Reason::Future:
      s += "masked (future: k > q)";
      break;
    case attn::Reason::OutsideWindow:
      s += "masked (outside window: " + dist + " > " + bound + ", " + conv + ")";
      break;
    case attn::Reason::OtherSegment:
      s += "masked (other prompt: q in segment " +
           std::to_string(attn::segment_of(q, m.segment_ends, m.n_segments)) + ", k in segment " +
           std::to_string(attn::segment_of(k, m.segment_ends, m.n_segments)) + ")";
      break;
    case attn::Reason::NotInPattern:
      s += "masked (sparse: k >= G=" + std::to_string(m.sparse_global) + ", " + dist +
           " >= L=" + std::to_string(m.sparse_local) +
           ", not one of the R=" + std::to_string(m.sparse_random) + " random keys)";
      break;
    case attn::Reason::OutOfRange:
      s += "outside the sequence";
      break;
  }
  if (m.kind == attn::MaskKind::Chunked && m.chunk > 0)
    s += "; q in prefill chunk " + std::to_string(attn::chunk_of(q, m.chunk)) + ", k in chunk " +
         std::to_string(attn::chunk_of(k, m.chunk)) + " (C=" + std::to_string(m.chunk) + ")";
  return s;
}

std::string describe_mask_grid_cell(const Scene& scene, const MaskGrid& g, int row, int col) {
  if (g.block == 1) return describe_mask_cell(scene, row, col);
  if (row < 0 || col < 0 || row >= g.rows || col >= g.cols) return "";
  const int q0 = row * g.block, q1 = std::min(g.n, q0 + g.block) - 1;
  const int k0 = col * g.block, k1 = std::min(g.n, k0 + g.block) - 1;
  char buf[160];
  std::snprintf(buf, sizeof buf, "q=%d..%d, k=%d..%d: %.1f%% of pairs visible", q0, q1, k0, k1,
                100.0 * g.cells[static_cast<size_t>(row) * g.cols + col]);
  return buf;
}

}  // namespace core
