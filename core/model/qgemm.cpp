#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/model/qgemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/attention/simd_transpose.h"
#include "core/model/dequant.h"
#include "core/model/qgemm_bf16.h"

namespace core::model {

namespace {

constexpr int kPanel = 32;        // output columns a packed panel holds (two AVX-512 vectors)
constexpr int kRows = kPackRows;  // AVX-512: 12 rows x 2 vectors = 24 accumulators
constexpr int kPanelGroup = 8;    // panels a task takes at most: 256 rows of W
constexpr int kBlockTiles = 43;   // x tiles a block of rows holds: 516 rows
constexpr size_t kTile = static_cast<size_t>(kRows) * kPanel;  // one [12][32] sums tile
// k per packed slice: 32 KB of panel, which stays in L1 (48 KB) for every tile of x; 256
// measured 3-8% above 128 on Sapphire Rapids (fewer passes over the sums).
constexpr int kDepth = 256;

// dst[c * ld + j] = src[j * stride + c] for c < 16, j < R (R = 12 or 16): rows of src become
// columns (simd::transpose16x16); rows past R read as 0 and are not stored.
template <int R>
__attribute__((target("avx512f"))) void transpose16(const float* src, size_t stride, float* dst,
                                                    size_t ld) {
  __m512 r[16];
  for (int j = 0; j < 16; ++j)
    r[j] = j < R ? _mm512_loadu_ps(src + j * stride) : _mm512_setzero_ps();
  simd::transpose16x16(r);
  const __mmask16 keep = static_cast<__mmask16>((1u << R) - 1);
  for (int c = 0; c < 16; ++c) _mm512_mask_storeu_ps(dst + c * ld, keep, r[c]);
}

// Packs W[r0 .. r0+31, k0 .. k0+kb) as panel[k * 32 + j]; rows past the end are 0. Sixteen
// rows are dequantized into rows[16][kb] at a time and transposed. With `bf16` the values are
// rounded to bfloat16 (the emulated draft path, qgemm_bf16.h).
void pack_panel(Isa isa, const QuantMatrix& w, int r0, int k0, int kb, float* panel, float* rows,
                bool bf16) {
  for (int j0 = 0; j0 < kPanel; j0 += 16) {
    for (int j = 0; j < 16; ++j) {
      float* row = rows + static_cast<size_t>(j) * kb;
      dequantize_row_slice(w, r0 + j0 + j, k0, kb, row);
      if (bf16)
        for (int k = 0; k < kb; ++k) row[k] = round_bf16(row[k]);
    }
    if (isa == Isa::Avx512) {  // kb is whole quant blocks: a multiple of 16
      for (int k = 0; k < kb; k += 16)
        transpose16<16>(rows + k, kb, panel + static_cast<size_t>(k) * kPanel + j0, kPanel);
      continue;
    }
    for (int j = 0; j < 16; ++j)
      for (int k = 0; k < kb; ++k)
        panel[static_cast<size_t>(k) * kPanel + j0 + j] = rows[static_cast<size_t>(j) * kb + k];
  }
}

// out[t, 0..31] = (add ? c[t, 0..31] : 0) + sum over k of x[t, k] panel[k, 0..31] for t < R;
// c is a [12][32] tile, out has row stride ldo. Going on from c's values keeps each sum one
// chain in k's order however k is sliced.
template <int R>
__attribute__((target("avx512f,fma"))) void tile_avx512(const float* x, const float* panel, int n_k,
                                                        const float* c, bool add, float* out,
                                                        int ldo) {
  __m512 acc[R][2];
#pragma GCC unroll 16
  for (int t = 0; t < R; ++t) {
    const float* ct = c + t * kPanel;
    acc[t][0] = add ? _mm512_loadu_ps(ct) : _mm512_setzero_ps();
    acc[t][1] = add ? _mm512_loadu_ps(ct + 16) : _mm512_setzero_ps();
  }
  for (int k = 0; k < n_k; ++k) {
    const __m512 w0 = _mm512_loadu_ps(panel + static_cast<size_t>(k) * kPanel);
    const __m512 w1 = _mm512_loadu_ps(panel + static_cast<size_t>(k) * kPanel + 16);
#pragma GCC unroll 16
    for (int t = 0; t < R; ++t) {
      const __m512 b = _mm512_set1_ps(x[static_cast<size_t>(k) * kRows + t]);
      acc[t][0] = _mm512_fmadd_ps(w0, b, acc[t][0]);
      acc[t][1] = _mm512_fmadd_ps(w1, b, acc[t][1]);
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < R; ++t) {
    _mm512_storeu_ps(out + static_cast<size_t>(t) * ldo, acc[t][0]);
    _mm512_storeu_ps(out + static_cast<size_t>(t) * ldo + 16, acc[t][1]);
  }
}

// AVX2: half a panel (16 columns, two vectors) for up to 6 rows: 12 accumulators.
template <int R>
__attribute__((target("avx2,fma"))) void tile_avx2(const float* x, const float* panel, int n_k,
                                                   const float* c, bool add, float* out, int ldo) {
  __m256 acc[R][2];
#pragma GCC unroll 16
  for (int t = 0; t < R; ++t) {
    const float* ct = c + t * kPanel;
    acc[t][0] = add ? _mm256_loadu_ps(ct) : _mm256_setzero_ps();
    acc[t][1] = add ? _mm256_loadu_ps(ct + 8) : _mm256_setzero_ps();
  }
  for (int k = 0; k < n_k; ++k) {
    const __m256 w0 = _mm256_loadu_ps(panel + static_cast<size_t>(k) * kPanel);
    const __m256 w1 = _mm256_loadu_ps(panel + static_cast<size_t>(k) * kPanel + 8);
#pragma GCC unroll 16
    for (int t = 0; t < R; ++t) {
      const __m256 b = _mm256_set1_ps(x[static_cast<size_t>(k) * kRows + t]);
      acc[t][0] = _mm256_fmadd_ps(w0, b, acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(w1, b, acc[t][1]);
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < R; ++t) {
    _mm256_storeu_ps(out + static_cast<size_t>(t) * ldo, acc[t][0]);
    _mm256_storeu_ps(out + static_cast<size_t>(t) * ldo + 8, acc[t][1]);
  }
}

void tile_scalar(const float* x, const float* panel, int n_k, const float* c, bool add, float* out,
                 int ldo, int rows) {
  for (int t = 0; t < rows; ++t) {
    float acc[kPanel] = {};
    if (add) std::memcpy(acc, c + t * kPanel, sizeof(acc));
    for (int k = 0; k < n_k; ++k) {
      const float b = x[static_cast<size_t>(k) * kRows + t];
      for (int j = 0; j < kPanel; ++j) acc[j] += panel[static_cast<size_t>(k) * kPanel + j] * b;
    }
    std::memcpy(out + static_cast<size_t>(t) * ldo, acc, sizeof(acc));
  }
}

template <int R>
void avx512_rows(const float* x, const float* panel, int n_k, const float* c, bool add, float* out,
                 int ldo, int rows) {
  if constexpr (R > 1) {
    if (rows < R) return avx512_rows<R - 1>(x, panel, n_k, c, add, out, ldo, rows);
  }
  tile_avx512<R>(x, panel, n_k, c, add, out, ldo);
}

template <int R>
void avx2_rows(const float* x, const float* panel, int n_k, const float* c, bool add, float* out,
               int ldo, int rows) {
  if constexpr (R > 1) {
    if (rows < R) return avx2_rows<R - 1>(x, panel, n_k, c, add, out, ldo, rows);
  }
  tile_avx2<R>(x, panel, n_k, c, add, out, ldo);
}

// out[t, 0..31] for t < rows (rows <= 12) from one packed panel slice; c and out as in
// tile_avx512.
void tile(Isa isa, const float* x, const float* panel, int n_k, const float* c, bool add,
          float* out, int ldo, int rows) {
  if (isa == Isa::Avx512) return avx512_rows<kRows>(x, panel, n_k, c, add, out, ldo, rows);
  if (isa == Isa::Avx2) {
    for (int t = 0; t < rows; t += 6) {
      const int r = std::min(6, rows - t);
      const float* ct = c + t * kPanel;
      float* ot = out + static_cast<size_t>(t) * ldo;
      avx2_rows<6>(x + t, panel, n_k, ct, add, ot, ldo, r);
      avx2_rows<6>(x + t, panel + 16, n_k, ct + 16, add, ot + 16, ldo, r);
    }
    return;
  }
  tile_scalar(x, panel, n_k, c, add, out, ldo, rows);
}

// A 64-byte aligned view of a scratch vector holding n floats: the kernels' 64-byte loads
// and stores would otherwise each straddle two cache lines (measured: 6% of the kernel's rate).
float* aligned_scratch(std::vector<float>& v, size_t n) {
  v.resize(n + 64 / sizeof(float));
  const auto a = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<float*>((a + 63) & ~uintptr_t{63});
}

}  // namespace

void dequantize_row_slice(const QuantMatrix& w, int r, int k0, int kb, float* row) {
  if (r >= w.rows) {
    std::fill(row, row + kb, 0.0f);
    return;
  }
  const size_t block_bytes = w.row_bytes / static_cast<size_t>(w.cols / w.block_elems);
  const size_t offset = static_cast<size_t>(k0 / w.block_elems) * block_bytes;
  dequantize(w.type, w.data + static_cast<size_t>(r) * w.row_bytes + offset, row, kb);
}

// The loop nest:
//
//   for each block of x's rows (its packed slab [rows][depth] stays in L2)
//     for each slice of k (depth deep)
//       for each panel p in [p0, p1): pack W's 32 rows x depth once, then every x tile
//
// k outside the panels, so each panel of the range reuses the slab. The running sums sit in
// a thread-local [panel][tile][12][32] buffer: y's rows are w.rows * 4 bytes apart (a page or
// more), so keeping 12 of them live for every slice cost a TLB miss per row; only the last
// slice writes y. Each output is still one f32 chain over k in order.
void qgemm_panels(const QuantMatrix& w, const float* xp, int t_count, float* y, int p0, int p1,
                  bool bf16) {
  thread_local std::vector<float> panel_scratch, rows_scratch, sums_scratch;
  // A slice of k: whole quant blocks, kDepth deep unless one block is deeper.
  const int depth = std::max(w.block_elems, kDepth / w.block_elems * w.block_elems);
  float* panel = aligned_scratch(panel_scratch, static_cast<size_t>(depth) * kPanel);
  float* rows = aligned_scratch(rows_scratch, static_cast<size_t>(depth) * 16);
  const int n_tiles = x_tiles(t_count);
  float* acc = aligned_scratch(
      sums_scratch, static_cast<size_t>(p1 - p0) * std::min(n_tiles, kBlockTiles) * kTile);
  const Isa isa = current_isa();
  for (int b0 = 0; b0 < n_tiles; b0 += kBlockTiles) {
    const int b1 = std::min(n_tiles, b0 + kBlockTiles);
    const auto sums = [&](int p, int i) {
      return acc + (static_cast<size_t>(p - p0) * (b1 - b0) + (i - b0)) * kTile;
    };
    for (int k0 = 0; k0 < w.cols; k0 += depth) {
      const int kb = std::min(depth, w.cols - k0);
      const bool last = k0 + kb == w.cols;
      for (int p = p0; p < p1; ++p) {
        pack_panel(isa, w, p * kPanel, k0, kb, panel, rows, bf16);
        // A narrower last panel keeps its sums and copies its columns out below.
        const bool direct = last && w.rows - p * kPanel >= kPanel;
        for (int i = b0; i < b1; ++i) {
          float* out =
              direct ? y + static_cast<size_t>(i) * kRows * w.rows + p * kPanel : sums(p, i);
          tile(isa, xp + static_cast<size_t>(i) * kRows * w.cols + static_cast<size_t>(k0) * kRows,
               panel, kb, sums(p, i), k0 > 0, out, direct ? w.rows : kPanel,
               std::min(kRows, t_count - i * kRows));
        }
      }
    }
    const int r0 = (p1 - 1) * kPanel, width = w.rows - r0;
    if (width < kPanel)
      for (int t = b0 * kRows; t < std::min(t_count, b1 * kRows); ++t)
        std::memcpy(y + static_cast<size_t>(t) * w.rows + r0,
                    sums(p1 - 1, t / kRows) + (t % kRows) * kPanel, sizeof(float) * width);
  }
}

int panel_group(int n_panels, int threads) {
  // As many groups as threads, or a multiple of them, none over kPanelGroup panels: equal
  // shares, and each group reuses x's slab across its panels (qgemm_panels).
  const int per_round = threads * kPanelGroup;
  const int n_groups = threads * ((n_panels + per_round - 1) / per_round);
  return std::max(1, (n_panels + n_groups - 1) / n_groups);
}

int x_tiles(int t_count) {
  return (t_count + kRows - 1) / kRows;
}

void pack_x_tile(const float* x, int t_count, int cols, float* xp, int tile, bool bf16) {
  const auto val = [bf16](float v) { return bf16 ? round_bf16(v) : v; };
  float* dst = xp + static_cast<size_t>(tile) * kRows * cols;
  const bool full = t_count - tile * kRows >= kRows;
  const float* first = x + static_cast<size_t>(tile) * kRows * cols;
  int k0 = 0;
  if (full && !bf16 && current_isa() == Isa::Avx512)  // 16 columns of 12 rows at a time
    for (; k0 + 16 <= cols; k0 += 16)
      transpose16<kRows>(first + k0, cols, dst + static_cast<size_t>(k0) * kRows, kRows);
  if (full) {
    // A full tile: k outer, so the writes run in order (twice as fast as row by row).
    const float* src[kRows];
    for (int r = 0; r < kRows; ++r) src[r] = x + static_cast<size_t>(tile * kRows + r) * cols;
    for (int k = k0; k < cols; ++k)
#pragma GCC unroll 12
      for (int r = 0; r < kRows; ++r) dst[static_cast<size_t>(k) * kRows + r] = val(src[r][k]);
    return;
  }
  for (int r = 0; r < kRows; ++r) {
    const int t = tile * kRows + r;
    const float* src = t < t_count ? x + static_cast<size_t>(t) * cols : nullptr;
    for (int k = 0; k < cols; ++k)
      dst[static_cast<size_t>(k) * kRows + r] = src ? val(src[k]) : 0.0f;
  }
}

void pack_x(const float* x, int t_count, int cols, std::vector<float>& xp, bool bf16) {
  xp.resize(static_cast<size_t>(x_tiles(t_count)) * kRows * cols);
  for (int i = 0; i < x_tiles(t_count); ++i) pack_x_tile(x, t_count, cols, xp.data(), i, bf16);
}

void qgemm(const QuantMatrix& w, const float* x, int t_count, float* y, ThreadPool& pool) {
  thread_local std::vector<float> xp;
  pack_x(x, t_count, w.cols, xp);
  const int n_panels = (w.rows + kPanel - 1) / kPanel;
  const float* packed = xp.data();  // the caller's thread_local, not each worker's
  const int group = panel_group(n_panels, pool.size());
  pool.run((n_panels + group - 1) / group, [&](int g) {
    qgemm_panels(w, packed, t_count, y, g * group, std::min(n_panels, (g + 1) * group));
  });
}

}  // namespace core::model
