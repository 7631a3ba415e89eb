#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/model/qgemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace core::model {

namespace {

constexpr int kPanel = 32;  // output columns a packed panel holds (two AVX-512 vectors)
constexpr int kRows = 12;   // rows of x a kernel call covers (AVX-512: 12 x 2 accumulators)

// Packs rows [r0, r0 + 32) of W as panel[k * 32 + j] = W[r0 + j, k]; rows past the end are 0.
void pack_panel(const QuantMatrix& w, int r0, float* panel, float* row) {
  for (int j = 0; j < kPanel; ++j) {
    if (r0 + j < w.rows) {
      dequantize_row(w, r0 + j, row);
      for (int k = 0; k < w.cols; ++k) panel[static_cast<size_t>(k) * kPanel + j] = row[k];
    } else {
      for (int k = 0; k < w.cols; ++k) panel[static_cast<size_t>(k) * kPanel + j] = 0.0f;
    }
  }
}

// c[t, 0..31] = Σ_k x[t, k] panel[k, 0..31] for t < R; c has row stride ldc.
template <int R>
__attribute__((target("avx512f,fma"))) void tile_avx512(const float* x, int ldx, const float* panel,
                                                        int n_k, float* c, int ldc) {
  __m512 acc[R][2];
#pragma GCC unroll 16
  for (int t = 0; t < R; ++t) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
  for (int k = 0; k < n_k; ++k) {
    const __m512 w0 = _mm512_loadu_ps(panel + static_cast<size_t>(k) * kPanel);
    const __m512 w1 = _mm512_loadu_ps(panel + static_cast<size_t>(k) * kPanel + 16);
#pragma GCC unroll 16
    for (int t = 0; t < R; ++t) {
      const __m512 b = _mm512_set1_ps(x[static_cast<size_t>(t) * ldx + k]);
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
__attribute__((target("avx2,fma"))) void tile_avx2(const float* x, int ldx, const float* panel,
                                                   int n_k, float* c, int ldc) {
  __m256 acc[R][2];
#pragma GCC unroll 16
  for (int t = 0; t < R; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  for (int k = 0; k < n_k; ++k) {
    const __m256 w0 = _mm256_loadu_ps(panel + static_cast<size_t>(k) * kPanel);
    const __m256 w1 = _mm256_loadu_ps(panel + static_cast<size_t>(k) * kPanel + 8);
#pragma GCC unroll 16
    for (int t = 0; t < R; ++t) {
      const __m256 b = _mm256_set1_ps(x[static_cast<size_t>(t) * ldx + k]);
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

void tile_scalar(const float* x, int ldx, const float* panel, int n_k, float* c, int ldc,
                 int rows) {
  for (int t = 0; t < rows; ++t) {
    float acc[kPanel] = {};
    for (int k = 0; k < n_k; ++k) {
      const float b = x[static_cast<size_t>(t) * ldx + k];
      for (int j = 0; j < kPanel; ++j) acc[j] += panel[static_cast<size_t>(k) * kPanel + j] * b;
    }
    std::memcpy(c + static_cast<size_t>(t) * ldc, acc, sizeof(acc));
  }
}

template <int R>
void avx512_rows(const float* x, int ldx, const float* panel, int n_k, float* c, int ldc,
                 int rows) {
  if constexpr (R > 1) {
    if (rows < R) return avx512_rows<R - 1>(x, ldx, panel, n_k, c, ldc, rows);
  }
  tile_avx512<R>(x, ldx, panel, n_k, c, ldc);
}

template <int R>
void avx2_rows(const float* x, int ldx, const float* panel, int n_k, float* c, int ldc, int rows) {
  if constexpr (R > 1) {
    if (rows < R) return avx2_rows<R - 1>(x, ldx, panel, n_k, c, ldc, rows);
  }
  tile_avx2<R>(x, ldx, panel, n_k, c, ldc);
}

// c[t, 0..31] for t < rows (rows <= 12) from one packed panel.
void tile(Isa isa, const float* x, int ldx, const float* panel, int n_k, float* c, int ldc,
          int rows) {
  if (isa == Isa::Avx512) return avx512_rows<kRows>(x, ldx, panel, n_k, c, ldc, rows);
  if (isa == Isa::Avx2) {
    for (int t = 0; t < rows; t += 6) {
      const int r = std::min(6, rows - t);
      const float* xt = x + static_cast<size_t>(t) * ldx;
      float* ct = c + static_cast<size_t>(t) * ldc;
      avx2_rows<6>(xt, ldx, panel, n_k, ct, ldc, r);
      avx2_rows<6>(xt, ldx, panel + 16, n_k, ct + 16, ldc, r);
    }
    return;
  }
  tile_scalar(x, ldx, panel, n_k, c, ldc, rows);
}

}  // namespace

void qgemm_panels(const QuantMatrix& w, const float* x, int t_count, float* y, int p0, int p1) {
  thread_local std::vector<float> panel, row, edge;
  panel.resize(static_cast<size_t>(w.cols) * kPanel);
  row.resize(w.cols);
  const Isa isa = current_isa();
  for (int p = p0; p < p1; ++p) {
    const int r0 = p * kPanel;
    const int width = std::min(kPanel, w.rows - r0);
    pack_panel(w, r0, panel.data(), row.data());
    for (int t0 = 0; t0 < t_count; t0 += kRows) {
      const int rows = std::min(kRows, t_count - t0);
      const float* xt = x + static_cast<size_t>(t0) * w.cols;
      float* yt = y + static_cast<size_t>(t0) * w.rows + r0;
      if (width == kPanel) {
        tile(isa, xt, w.cols, panel.data(), w.cols, yt, w.rows, rows);
        continue;
      }
      edge.resize(static_cast<size_t>(kRows) * kPanel);  // a last, narrower panel
      tile(isa, xt, w.cols, panel.data(), w.cols, edge.data(), kPanel, rows);
      for (int t = 0; t < rows; ++t)
        std::memcpy(yt + static_cast<size_t>(t) * w.rows, edge.data() + t * kPanel,
                    sizeof(float) * width);
    }
  }
}

void qgemm(const QuantMatrix& w, const float* x, int t_count, float* y, ThreadPool& pool) {
  const int n_panels = (w.rows + kPanel - 1) / kPanel;
  pool.run(n_panels, [&](int p) { qgemm_panels(w, x, t_count, y, p, p + 1); });
}

}  // namespace core::model
