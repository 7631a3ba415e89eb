// P·V for the CPU attention kernels, shared by the tiled prefill (cpu_tile_kernels) and the
// decode path (cpu_decode_kernels): rows r < R of o, o[r] = alpha[r] · o[r] + Σ_j p(r, j) v[j],
// each element one FMA chain in key order, so every instruction set gives the same bits.
// p(r, j) = p[r · rs + j · js]: the prefill keeps P transposed (rs 1, js ld), decode row-major
// (rs kKeys, js 1). Include only from files compiled with -ffp-contract=off
// (core/CMakeLists.txt), as cpu_exp_simd.h.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstddef>

#include "core/attention/cpu_exp_simd.h"

namespace core::tile::simd {

// Dims [e, e + 16·NV) of rows r < R.
template <int R, int NV>
ATTNLAB_AVX512 inline void pv_avx512(const float* p, size_t rs, size_t js, const float* const* v,
                                     int n, int e, int hd, const float* alpha, float* o) {
  __m512 acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NV; ++c)
      acc[r][c] = _mm512_mul_ps(_mm512_set1_ps(alpha[r]), _mm512_loadu_ps(o + r * hd + e + 16 * c));
  for (int j = 0; j < n; ++j) {
    __m512 vj[NV];
    for (int c = 0; c < NV; ++c) vj[c] = _mm512_loadu_ps(v[j] + e + 16 * c);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 b = _mm512_set1_ps(p[r * rs + j * js]);
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_fmadd_ps(b, vj[c], acc[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(o + r * hd + e + 16 * c, acc[r][c]);
}

// Every dim of rows r < R (hd % 16 == 0).
template <int R>
ATTNLAB_AVX512 inline void pv_rows_avx512(const float* p, size_t rs, size_t js,
                                          const float* const* v, int n, int hd, const float* alpha,
                                          float* o) {
  int e = 0;
  for (; e + 64 <= hd; e += 64) pv_avx512<R, 4>(p, rs, js, v, n, e, hd, alpha, o);
  for (; e < hd; e += 16) pv_avx512<R, 1>(p, rs, js, v, n, e, hd, alpha, o);
}

// Dims [e, e + 8·NV) of rows r < R.
template <int R, int NV>
ATTNLAB_AVX2 inline void pv_avx2(const float* p, size_t rs, size_t js, const float* const* v, int n,
                                 int e, int hd, const float* alpha, float* o) {
  __m256 acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NV; ++c)
      acc[r][c] = _mm256_mul_ps(_mm256_set1_ps(alpha[r]), _mm256_loadu_ps(o + r * hd + e + 8 * c));
  for (int j = 0; j < n; ++j) {
    __m256 vj[NV];
    for (int c = 0; c < NV; ++c) vj[c] = _mm256_loadu_ps(v[j] + e + 8 * c);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 b = _mm256_broadcast_ss(p + r * rs + j * js);
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm256_fmadd_ps(b, vj[c], acc[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NV; ++c) _mm256_storeu_ps(o + r * hd + e + 8 * c, acc[r][c]);
}

// Every dim of rows r < R (hd % 8 == 0).
template <int R>
ATTNLAB_AVX2 inline void pv_rows_avx2(const float* p, size_t rs, size_t js, const float* const* v,
                                      int n, int hd, const float* alpha, float* o) {
  int e = 0;
  for (; e + 32 <= hd; e += 32) pv_avx2<R, 4>(p, rs, js, v, n, e, hd, alpha, o);
  for (; e < hd; e += 8) pv_avx2<R, 1>(p, rs, js, v, n, e, hd, alpha, o);
}

// The same chains one element at a time, any hd.
inline void pv_rows_scalar(const float* p, size_t rs, size_t js, int rows, const float* const* v,
                           int n, int hd, const float* alpha, float* o) {
  for (int r = 0; r < rows; ++r)
    for (int e = 0; e < hd; ++e) {
      float acc = alpha[r] * o[r * hd + e];
      for (int j = 0; j < n; ++j) acc = std::fma(p[r * rs + j * js], v[j][e], acc);
      o[r * hd + e] = acc;
    }
}

}  // namespace core::tile::simd
