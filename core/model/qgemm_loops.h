// The loop nest of the prefill GEMM (qgemm.h), around a panel packer and a register tile
// (the draft precisions, qgemm_bf16.h and qgemm_int8.h, still run their own panel loops):
//
//   for each block of x's rows (its packed slab [rows][depth] stays in L2)
//     for each slice of k (depth deep)
//       for each panel p in [p0, p1): pack W's 32 rows x depth once, then every x tile
//
// k outside the panels, so each panel of the range reuses the slab. The running sums sit in
// a thread-local [panel][tile][12][32] buffer: y's rows are w.rows * 4 bytes apart (a page or
// more), so keeping 12 of them live for every slice cost a TLB miss per row; only the last
// slice writes y. Each output is still one f32 chain over k in order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/model/qgemv.h"

namespace core::model {

constexpr int kPanelCols = 32;   // output columns a packed panel holds
constexpr int kTileRows = 12;    // rows of x a register tile covers
constexpr int kPanelGroup = 8;   // panels a task takes: 256 rows of W
constexpr int kBlockTiles = 43;  // x tiles a block holds: 516 rows

// A 64-byte aligned view of a scratch vector holding n Ts: the kernels' 64-byte loads and
// stores would otherwise each straddle two cache lines (measured: 6% of the kernel's rate).
template <typename T>
T* aligned_scratch(std::vector<T>& v, size_t n) {
  v.resize(n + 64 / sizeof(T));
  const auto a = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<T*>((a + 63) & ~uintptr_t{63});
}

// pack(p, k0, kb): packs panel p's slice [k0, k0 + kb).
// tile(i, k0, kb, c, add, out, ldo, rows): x tile i times the packed slice; out's rows (row
// stride ldo) = (add ? c : 0) + the products, for rows <= 12 rows; c is a [12][32] tile.
template <typename Pack, typename Tile>
void panel_loops(const QuantMatrix& w, int t_count, float* y, int p0, int p1, int depth,
                 Pack&& pack, Tile&& tile) {
  constexpr size_t kTile = static_cast<size_t>(kTileRows) * kPanelCols;
  thread_local std::vector<float> scratch;
  const int n_tiles = (t_count + kTileRows - 1) / kTileRows;
  float* acc = aligned_scratch(
      scratch, static_cast<size_t>(p1 - p0) * std::min(n_tiles, kBlockTiles) * kTile);
  for (int b0 = 0; b0 < n_tiles; b0 += kBlockTiles) {
    const int b1 = std::min(n_tiles, b0 + kBlockTiles);
    const auto sums = [&](int p, int i) {
      return acc + (static_cast<size_t>(p - p0) * (b1 - b0) + (i - b0)) * kTile;
    };
    for (int k0 = 0; k0 < w.cols; k0 += depth) {
      const int kb = std::min(depth, w.cols - k0);
      const bool last = k0 + kb == w.cols;
      for (int p = p0; p < p1; ++p) {
        pack(p, k0, kb);
        // A narrower last panel keeps its sums and copies its columns out below.
        const bool direct = last && w.rows - p * kPanelCols >= kPanelCols;
        for (int i = b0; i < b1; ++i) {
          const int rows = std::min(kTileRows, t_count - i * kTileRows);
          float* out = direct ? y + static_cast<size_t>(i) * kTileRows * w.rows + p * kPanelCols
                              : sums(p, i);
          tile(i, k0, kb, sums(p, i), k0 > 0, out, direct ? w.rows : kPanelCols, rows);
        }
      }
    }
    const int r0 = (p1 - 1) * kPanelCols, width = w.rows - r0;
    if (width < kPanelCols)
      for (int t = b0 * kTileRows; t < std::min(t_count, b1 * kTileRows); ++t)
        std::memcpy(y + static_cast<size_t>(t) * w.rows + r0,
                    sums(p1 - 1, t / kTileRows) + (t % kTileRows) * kPanelCols,
                    sizeof(float) * width);
  }
}

}  // namespace core::model
