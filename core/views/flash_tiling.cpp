#include "core/views/flash_tiling.h"

#include <algorithm>

#include "core/attention/launch_shape.h"
#include "core/views/mask_grid.h"

namespace core {
namespace {

// Kind of the rectangle [q0, q1) x [k0, k1) when pair (q, k) is visible iff 0 <= q-k <= D
// (D < 0: no upper limit). Its differences q-k fill the interval [q0-k1+1, q1-1-k0].
TileKind band_kind(int64_t q0, int64_t q1, int64_t k0, int64_t k1, int64_t max_d) {
  if (q1 <= q0 || k1 <= k0) return TileKind::Skipped;
  const int64_t dmin = q0 - (k1 - 1), dmax = (q1 - 1) - k0;
  const int64_t lo = std::max<int64_t>(dmin, 0);
  const int64_t hi = max_d < 0 ? dmax : std::min(dmax, max_d);
  if (lo > hi) return TileKind::Skipped;
  return dmin >= 0 && (max_d < 0 || dmax <= max_d) ? TileKind::Full : TileKind::Masked;
}

int64_t band_limit(const attn::MaskSpec& m) {
  if (m.kind == attn::MaskKind::Causal) return -1;
  return attn::window_max_distance(m.window, m.convention);
}

// Block-diagonal: each segment is its own band; a tile is full only inside one segment.
TileKind block_diagonal_kind(const attn::MaskSpec& m, const Tile& t) {
  const int64_t max_d = band_limit(m);
  bool any = false;
  int64_t seg_lo = 0;
  for (int s = 0; s <= m.n_segments; ++s) {
    const int64_t seg_hi = s < m.n_segments ? m.segment_ends[s] : INT64_MAX;
    const int64_t q0 = std::max<int64_t>(t.q0, seg_lo), q1 = std::min<int64_t>(t.q1, seg_hi);
    const int64_t k0 = std::max<int64_t>(t.k0, seg_lo), k1 = std::min<int64_t>(t.k1, seg_hi);
    const TileKind k = band_kind(q0, q1, k0, k1, max_d);
    if (k != TileKind::Skipped) {
      const bool whole = q0 == t.q0 && q1 == t.q1 && k0 == t.k0 && k1 == t.k1;
      if (whole) return k;  // the tile lies inside this one segment
      any = true;
    }
    seg_lo = seg_hi;
  }
  return any ? TileKind::Masked : TileKind::Skipped;
}

TileKind kind_from_count(int64_t visible, const Tile& t) {
  if (visible == 0) return TileKind::Skipped;
  return visible == static_cast<int64_t>(t.q1 - t.q0) * (t.k1 - t.k0) ? TileKind::Full
                                                                      : TileKind::Masked;
}

int64_t overlap(const KeyInterval& iv, int k0, int k1) {
  return std::max(0, std::min(iv.hi + 1, k1) - std::max(iv.lo, k0));
}

// Visible pairs of each key tile [bounds[j], bounds[j+1]) over queries [q0, q1), from the
// per-row key intervals (sparse masks, where no closed form exists).
std::vector<int64_t> row_block_counts(const attn::MaskSpec& m, int q0, int q1,
                                      const std::vector<int>& bounds) {
  std::vector<int64_t> counts(bounds.size() - 1, 0);
  std::vector<KeyInterval> iv;
  for (int q = q0; q < q1; ++q) {
    visible_key_intervals(q, m, iv);
    for (const KeyInterval& i : iv) {
      const int64_t first = std::upper_bound(bounds.begin(), bounds.end(), i.lo) - bounds.begin();
      for (int64_t j = std::max<int64_t>(0, first - 1);
           j + 1 < static_cast<int64_t>(bounds.size()) && bounds[j] <= i.hi; ++j)
        counts[j] += overlap(i, bounds[j], bounds[j + 1]);
    }
  }
  return counts;
}

}  // namespace

FlashBlockSizes flash_block_sizes(int64_t sram_bytes, int elem_bytes, int head_dim) {
  FlashBlockSizes b;
  b.sram_elems = sram_bytes / std::max(1, elem_bytes);
  const int64_t four_d = 4LL * std::max(1, head_dim);
  b.block_cols = static_cast<int>(std::max<int64_t>(1, (b.sram_elems + four_d - 1) / four_d));
  b.block_rows = std::min(b.block_cols, head_dim);
  return b;
}

const char* tile_kind_name(TileKind k) {
  switch (k) {
    case TileKind::Skipped:
      return "skipped";
    case TileKind::Masked:
      return "masked";
    case TileKind::Full:
      return "full";
  }
  return "full";
}

TileKind classify_tile(const attn::MaskSpec& m, const Tile& t) {
  switch (m.kind) {
    case attn::MaskKind::Causal:
    case attn::MaskKind::SlidingWindow:
    case attn::MaskKind::Chunked:
      return band_kind(t.q0, t.q1, t.k0, t.k1, band_limit(m));
    case attn::MaskKind::BlockDiagonal:
      return block_diagonal_kind(m, t);
    case attn::MaskKind::Sparse:
      break;
  }
  std::vector<int> bounds = {t.k0, t.k1};
  return kind_from_count(row_block_counts(m, t.q0, t.q1, bounds)[0], t);
}

TileGrid build_tile_grid(const attn::MaskSpec& m, int n, int br, int bc, bool keep_tiles) {
  TileGrid g;
  g.n = n;
  g.block_rows = br = std::max(1, br);
  g.block_cols = bc = std::max(1, bc);
  const int chunk = m.kind == attn::MaskKind::Chunked && m.chunk > 0 ? m.chunk : std::max(1, n);
  std::vector<int> bounds;  // key tile edges of the current call
  std::vector<char> live;   // per key tile of the current call: some row block uses it
  for (int s = 0; s < n; s += chunk) {
    const int e = std::min(n, s + chunk);
    bounds.clear();
    for (int k = 0; k < s; k += bc) bounds.push_back(k);
    for (int k = s; k < e; k += bc) bounds.push_back(k);
    bounds.push_back(e);
    live.assign(bounds.size() - 1, 0);
    for (int r = s; r < e; r += br) {
      const int q1 = std::min(r + br, e);
      ++g.row_blocks;
      std::vector<int64_t> counts;
      if (m.kind == attn::MaskKind::Sparse) counts = row_block_counts(m, r, q1, bounds);
      for (size_t j = 0; j + 1 < bounds.size(); ++j) {
        Tile t{r, q1, bounds[j], bounds[j + 1]};
        t.kind = counts.empty() ? classify_tile(m, t) : kind_from_count(counts[j], t);
        const int64_t rows = t.q1 - t.q0, keys = t.k1 - t.k0;
        ++g.total;
        g.all_keys += keys;
        if (t.kind == TileKind::Skipped) {
          ++g.skipped;
        } else {
          (t.kind == TileKind::Full ? g.full : g.masked) += 1;
          g.live_query_rows += rows;
          g.live_keys += keys;
          live[j] = 1;
        }
        if (keep_tiles && g.total <= kTileGridMaxStored) g.tiles.push_back(t);
      }
    }
    for (size_t j = 0; j + 1 < bounds.size(); ++j)
      if (live[j]) g.live_column_keys += bounds[j + 1] - bounds[j];
  }
  if (g.total > kTileGridMaxStored) g.tiles.clear();
  return g;
}

HbmTraffic hbm_traffic(const TileGrid& g, int d, int64_t sram_elems) {
  HbmTraffic h;
  const int64_t n = g.n;
  h.standard = 4 * n * d + 4 * n * n;
  h.fa1 = n * (d + 2) + 2 * g.live_column_keys * d + g.live_query_rows * (3LL * d + 4);
  h.fa2 = n * (2LL * d + 1) + 2 * g.live_keys * d;
  h.bound =
      static_cast<double>(n) * n * d * d / static_cast<double>(std::max<int64_t>(1, sram_elems));
  return h;
}

FlashSchedule flash_schedule(const TileGrid& g, int n_heads, int batch) {
  FlashSchedule s;
  s.thread_blocks_fa1 = static_cast<int64_t>(batch) * n_heads;
  s.thread_blocks_fa2 = s.thread_blocks_fa1 * g.row_blocks;
  s.rescales_fa1 = 2 * g.live_query_rows;
  s.rescales_fa2 = g.live_query_rows + g.n;
  return s;
}

KernelTiles kernel_tiles(const attn::MaskSpec& m, int n, int n_heads, int n_kv_heads, int d,
                         bool keep_tiles) {
  KernelTiles k;
  const attn::LaunchShape shape = attn::launch_shape(n, n_heads, n_kv_heads, d);
  k.queries_per_block = shape.queries_per_block;
  k.key_tile = shape.key_tile;
  k.grid = build_tile_grid(m, n, k.queries_per_block, k.key_tile, keep_tiles);
  constexpr int64_t kF = sizeof(float), kI = sizeof(int32_t);
  k.tiles = k.grid.total * n_kv_heads;
  k.tiles_skipped = k.grid.skipped * n_kv_heads;
  k.tiles_full = k.grid.full * n_kv_heads;
  k.bytes_kv = 2 * k.grid.live_keys * d * kF * n_kv_heads;
  k.bytes_pos = k.grid.all_keys * kI * n_kv_heads;
  k.bytes_q = static_cast<int64_t>(n) * n_heads * d * kF;
  k.bytes_out = k.bytes_q;
  return k;
}

FlashTiling build_flash_tiling(const Scene& s, bool keep_tiles) {
  std::vector<int32_t> ends;
  const attn::MaskSpec spec = mask_spec(s, ends);
  FlashTiling f;
  f.n = s.seq_len;
  f.head_dim = s.head_dim;
  f.elem_bytes = dtype_bytes(s.dtype);
  f.version = s.flash.version;
  f.sram_bytes = s.flash.sram_bytes;
  f.sizes = flash_block_sizes(f.sram_bytes, f.elem_bytes, f.head_dim);
  f.grid = build_tile_grid(spec, f.n, f.sizes.block_rows, f.sizes.block_cols, keep_tiles);
  f.hbm = hbm_traffic(f.grid, f.head_dim, f.sizes.sram_elems);
  f.hbm_bytes_standard = f.hbm.standard * f.elem_bytes;
  f.hbm_bytes_tiled = (f.version == 1 ? f.hbm.fa1 : f.hbm.fa2) * f.elem_bytes;
  f.schedule = flash_schedule(f.grid, s.n_heads, s.batch);
  f.kernel = kernel_tiles(spec, f.n, s.n_heads, s.n_kv_heads, f.head_dim, false);
  return f;
}

}  // namespace core
