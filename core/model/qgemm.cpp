#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/model/qgemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/model/dequant.h"
#include "core/model/qgemm_bf16.h"

namespace core::model {

namespace {

constexpr int kPanel = 32;        // output columns a packed panel holds (two AVX-512 vectors)
constexpr int kRows = kPackRows;  // AVX-512: 12 rows x 2 vectors = 24 accumulators
constexpr int kDepth = 128;       // k per packed slice: 16 KB of panel, which stays in L1

// Packs W[r0 .. r0+31, k0 .. k0+kb) as panel[k * 32 + j]; rows past the end are 0. With
// `bf16` the values are rounded to bfloat16 (the emulated draft path, qgemm_bf16.h).
void pack_panel(const QuantMatrix& w, int r0, int k0, int kb, float* panel, float* row, bool bf16) {
  for (int j = 0; j < kPanel; ++j) {
    dequantize_row_slice(w, r0 + j, k0, kb, row);
    for (int k = 0; k < kb; ++k)
      panel[static_cast<size_t>(k) * kPanel + j] = bf16 ? round_bf16(row[k]) : row[k];
  }
}

// c[t, 0..31] (+)= sum over k of x[t, k] panel[k, 0..31] for t < R; c has row stride ldc.
// With `add` the sums go on from c's values, so slicing k keeps each sum one chain in order.
template <int R>
__attribute__((target("avx512f,fma"))) void tile_avx512(const float* x, const float* panel, int n_k,
                                                        float* c, int ldc, bool add) {
  __m512 acc[R][2];
#pragma GCC unroll 16
  for (int t = 0; t < R; ++t) {
    float* ct = c + static_cast<size_t>(t) * ldc;
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
    _mm512_storeu_ps(c + static_cast<size_t>(t) * ldc, acc[t][0]);
    _mm512_storeu_ps(c + static_cast<size_t>(t) * ldc + 16, acc[t][1]);
  }
}

// AVX2: half a panel (16 columns, two vectors) for up to 6 rows: 12 accumulators.
template <int R>
__attribute__((target("avx2,fma"))) void tile_avx2(const float* x, const float* panel, int n_k,
                                                   float* c, int ldc, bool add) {
  __m256 acc[R][2];
#pragma GCC unroll 16
  for (int t = 0; t < R; ++t) {
    float* ct = c + static_cast<size_t>(t) * ldc;
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
    _mm256_storeu_ps(c + static_cast<size_t>(t) * ldc, acc[t][0]);
    _mm256_storeu_ps(c + static_cast<size_t>(t) * ldc + 8, acc[t][1]);
  }
}

void tile_scalar(const float* x, const float* panel, int n_k, float* c, int ldc, int rows,
                 bool add) {
  for (int t = 0; t < rows; ++t) {
    float acc[kPanel] = {};
    if (add) std::memcpy(acc, c + static_cast<size_t>(t) * ldc, sizeof(acc));
    for (int k = 0; k < n_k; ++k) {
      const float b = x[static_cast<size_t>(k) * kRows + t];
      for (int j = 0; j < kPanel; ++j) acc[j] += panel[static_cast<size_t>(k) * kPanel + j] * b;
    }
    std::memcpy(c + static_cast<size_t>(t) * ldc, acc, sizeof(acc));
  }
}

template <int R>
void avx512_rows(const float* x, const float* panel, int n_k, float* c, int ldc, int rows,
                 bool add) {
  if constexpr (R > 1) {
    if (rows < R) return avx512_rows<R - 1>(x, panel, n_k, c, ldc, rows, add);
  }
  tile_avx512<R>(x, panel, n_k, c, ldc, add);
}

template <int R>
void avx2_rows(const float* x, const float* panel, int n_k, float* c, int ldc, int rows, bool add) {
  if constexpr (R > 1) {
    if (rows < R) return avx2_rows<R - 1>(x, panel, n_k, c, ldc, rows, add);
  }
  tile_avx2<R>(x, panel, n_k, c, ldc, add);
}

// c[t, 0..31] for t < rows (rows <= 12) from one packed panel slice.
void tile(Isa isa, const float* x, const float* panel, int n_k, float* c, int ldc, int rows,
          bool add) {
  if (isa == Isa::Avx512) return avx512_rows<kRows>(x, panel, n_k, c, ldc, rows, add);
  if (isa == Isa::Avx2) {
    for (int t = 0; t < rows; t += 6) {
      const int r = std::min(6, rows - t);
      const float* xt = x + t;
      float* ct = c + static_cast<size_t>(t) * ldc;
      avx2_rows<6>(xt, panel, n_k, ct, ldc, r, add);
      avx2_rows<6>(xt, panel + 16, n_k, ct + 16, ldc, r, add);
    }
    return;
  }
  tile_scalar(x, panel, n_k, c, ldc, rows, add);
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

void qgemm_panels(const QuantMatrix& w, const float* xp, int t_count, float* y, int p0, int p1,
                  bool bf16) {
  thread_local std::vector<float> panel, row, edge;
  // A slice of k: whole quant blocks, kDepth deep unless one block is deeper.
  const int depth = std::max(w.block_elems, kDepth / w.block_elems * w.block_elems);
  panel.resize(static_cast<size_t>(depth) * kPanel);
  row.resize(depth);
  const Isa isa = current_isa();
  for (int p = p0; p < p1; ++p) {
    const int r0 = p * kPanel;
    const int width = std::min(kPanel, w.rows - r0);
    // A last, narrower panel computes into a [T, 32] buffer and copies its columns out.
    float* c = y + r0;
    int ldc = w.rows;
    if (width < kPanel) {
      edge.resize(static_cast<size_t>(t_count) * kPanel);
      c = edge.data();
      ldc = kPanel;
    }
    for (int k0 = 0; k0 < w.cols; k0 += depth) {
      const int kb = std::min(depth, w.cols - k0);
      pack_panel(w, r0, k0, kb, panel.data(), row.data(), bf16);
      for (int t0 = 0; t0 < t_count; t0 += kRows)
        tile(isa, xp + static_cast<size_t>(t0) * w.cols + static_cast<size_t>(k0) * kRows,
             panel.data(), kb, c + static_cast<size_t>(t0) * ldc, ldc,
             std::min(kRows, t_count - t0), k0 > 0);
    }
    if (width < kPanel)
      for (int t = 0; t < t_count; ++t)
        std::memcpy(y + static_cast<size_t>(t) * w.rows + r0, edge.data() + t * kPanel,
                    sizeof(float) * width);
  }
}

int x_tiles(int t_count) {
  return (t_count + kRows - 1) / kRows;
}

void pack_x_tile(const float* x, int t_count, int cols, float* xp, int tile, bool bf16) {
  const auto val = [bf16](float v) { return bf16 ? round_bf16(v) : v; };
  float* dst = xp + static_cast<size_t>(tile) * kRows * cols;
  if (t_count - tile * kRows >= kRows) {
    // A full tile: k outer, so the writes run in order (twice as fast as row by row).
    const float* src[kRows];
    for (int r = 0; r < kRows; ++r) src[r] = x + static_cast<size_t>(tile * kRows + r) * cols;
    for (int k = 0; k < cols; ++k)
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
  pool.run(n_panels, [&](int p) { qgemm_panels(w, packed, t_count, y, p, p + 1); });
}

}  // namespace core::model
