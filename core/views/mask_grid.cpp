#include "core/views/mask_grid.h"

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "core/attention/mask_names.h"
#include "core/attention/window_text.h"

namespace core {
namespace {

std::atomic<int64_t> g_builds{0};  // build_mask_grid calls (mask_grid_builds)

}  // namespace

int64_t mask_grid_builds() {
  return g_builds.load();
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
  g.xformers = attn::xformers_mask_name(spec);
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
  const std::string rule = attn::window_rule_text(m.window, m.convention);
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
        s += " (" + dist + " <= " + rule + ")";
      } else {
        s += " (causal: k <= q)";
      }
      break;
    case attn::Reason::Future:
      s += "masked (future: k > q)";
      break;
    case attn::Reason::OutsideWindow:
      s += "masked (outside window: " + dist + " > " + rule + ")";
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
