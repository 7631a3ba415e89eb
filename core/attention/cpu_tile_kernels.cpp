// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() and then warn that the value
// is uninitialized where they inline; the warning is about the header, not this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/attention/cpu_tile_kernels.h"

#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstdint>

#include "core/attention/cpu_exp_simd.h"
#include "core/attention/cpu_pv_simd.h"

namespace core::tile {

namespace {

using simd::exp_avx2;
using simd::exp_avx512;
using simd::kHi;
using simd::kLn2Hi;
using simd::kLn2Lo;
using simd::kLo;
using simd::kLog2e;
using simd::kP;

// Runs fn.operator()<R>(r) for r = 0, R, 2R, ... below `count`, the last group smaller.
template <int R, typename Fn>
void in_groups(int count, Fn&& fn) {
  int r = 0;
  for (; r + R <= count; r += R) fn.template operator()<R>(r);
  if constexpr (R > 1)
    if (r < count)
      in_groups<R - 1>(count - r, [&]<int S>(int r2) { fn.template operator()<S>(r + r2); });
}

// ---------------------------------------------------------------- AVX-512 (16 rows a vector)

// st for keys j < JR (k[j]) and 16·NV rows.
template <int JR, int NV>
ATTNLAB_AVX512 void scores_avx512(const float* qt, int ld, const float* const* k, int hd,
                                  float* st) {
  __m512 acc[JR][NV];
#pragma GCC unroll 8
  for (int j = 0; j < JR; ++j)
    for (int c = 0; c < NV; ++c) acc[j][c] = _mm512_setzero_ps();
  for (int d = 0; d < hd; ++d) {
    __m512 q[NV];
    for (int c = 0; c < NV; ++c) q[c] = _mm512_loadu_ps(qt + static_cast<size_t>(d) * ld + 16 * c);
#pragma GCC unroll 8
    for (int j = 0; j < JR; ++j) {
      const __m512 b = _mm512_set1_ps(k[j][d]);
      for (int c = 0; c < NV; ++c) acc[j][c] = _mm512_fmadd_ps(b, q[c], acc[j][c]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < JR; ++j)
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(st + j * ld + 16 * c, acc[j][c]);
}

// The lanes of rows r0.. that key j is visible to.
ATTNLAB_AVX512 __mmask16 keep_avx512(const float* valid, int j, int ld, int r0, __mmask16 lanes) {
  if (!valid) return lanes;
  const __m512 v = _mm512_loadu_ps(valid + static_cast<size_t>(j) * ld + r0);
  return static_cast<__mmask16>(lanes & _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NEQ_UQ));
}

ATTNLAB_AVX512 void softmax_avx512(float* st, int ld, int rows, int n, float scale,
                                   const float* valid, float* m, float* l, float* alpha) {
  const __m512 vscale = _mm512_set1_ps(scale);
  for (int r0 = 0; r0 < rows; r0 += 16) {
    const __mmask16 lanes =
        rows - r0 >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << (rows - r0)) - 1);
    const __m512 m_old = _mm512_loadu_ps(m + r0);
    __m512 mx = m_old;
    for (int j = 0; j < n; ++j) {
      const __m512 x =
          _mm512_mul_ps(_mm512_loadu_ps(st + static_cast<size_t>(j) * ld + r0), vscale);
      mx = _mm512_mask_max_ps(mx, keep_avx512(valid, j, ld, r0, lanes), mx, x);
    }
    __m512 sum = _mm512_setzero_ps();
    for (int j = 0; j < n; ++j) {
      float* sj = st + static_cast<size_t>(j) * ld + r0;
      const __m512 x = _mm512_mul_ps(_mm512_loadu_ps(sj), vscale);
      const __m512 p = _mm512_maskz_mov_ps(keep_avx512(valid, j, ld, r0, lanes),
                                           exp_avx512(_mm512_sub_ps(x, mx)));
      _mm512_storeu_ps(sj, p);
      sum = _mm512_add_ps(sum, p);
    }
    const __m512 a = exp_avx512(_mm512_sub_ps(m_old, mx));
    const __m512 l_new = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(l + r0), a), sum);
    _mm512_mask_storeu_ps(alpha + r0, lanes, a);
    _mm512_mask_storeu_ps(l + r0, lanes, l_new);
    _mm512_mask_storeu_ps(m + r0, lanes, mx);
  }
}

ATTNLAB_AVX512 void probabilities_avx512(float* row, int n, float m, float inv_sum) {
  const __m512 vm = _mm512_set1_ps(m), vinv = _mm512_set1_ps(inv_sum);
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  for (int k = 0; k < n; k += 16) {
    const __mmask16 in =
        n - k >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << (n - k)) - 1);
    const __m512 x = _mm512_maskz_loadu_ps(in, row + k);
    const __mmask16 seen = _mm512_mask_cmp_ps_mask(in, x, ninf, _CMP_NEQ_UQ);
    const __m512 p = _mm512_mul_ps(exp_avx512(_mm512_sub_ps(x, vm)), vinv);
    _mm512_mask_storeu_ps(row + k, in, _mm512_maskz_mov_ps(seen, p));
  }
}

// ---------------------------------------------------------------- AVX2 (8 rows a vector)

template <int JR>
ATTNLAB_AVX2 void scores_avx2(const float* qt, int ld, const float* const* k, int hd, float* st) {
  __m256 acc[JR][2];
#pragma GCC unroll 8
  for (int j = 0; j < JR; ++j) acc[j][0] = acc[j][1] = _mm256_setzero_ps();
  for (int d = 0; d < hd; ++d) {
    const __m256 q0 = _mm256_loadu_ps(qt + static_cast<size_t>(d) * ld);
    const __m256 q1 = _mm256_loadu_ps(qt + static_cast<size_t>(d) * ld + 8);
#pragma GCC unroll 8
    for (int j = 0; j < JR; ++j) {
      const __m256 b = _mm256_broadcast_ss(k[j] + d);
      acc[j][0] = _mm256_fmadd_ps(b, q0, acc[j][0]);
      acc[j][1] = _mm256_fmadd_ps(b, q1, acc[j][1]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < JR; ++j) {
    _mm256_storeu_ps(st + j * ld, acc[j][0]);
    _mm256_storeu_ps(st + j * ld + 8, acc[j][1]);
  }
}

ATTNLAB_AVX2 __m256 keep_avx2(const float* valid, int j, int ld, int r0, __m256 lanes) {
  if (!valid) return lanes;
  const __m256 v = _mm256_loadu_ps(valid + static_cast<size_t>(j) * ld + r0);
  return _mm256_and_ps(lanes, _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_UQ));
}

ATTNLAB_AVX2 void softmax_avx2(float* st, int ld, int rows, int n, float scale, const float* valid,
                               float* m, float* l, float* alpha) {
  const __m256 vscale = _mm256_set1_ps(scale);
  const __m256 iota = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
  for (int r0 = 0; r0 < rows; r0 += 8) {
    const __m256 lanes =
        _mm256_cmp_ps(iota, _mm256_set1_ps(static_cast<float>(rows - r0)), _CMP_LT_OQ);
    const __m256 m_old = _mm256_loadu_ps(m + r0);
    __m256 mx = m_old;
    for (int j = 0; j < n; ++j) {
      const __m256 x =
          _mm256_mul_ps(_mm256_loadu_ps(st + static_cast<size_t>(j) * ld + r0), vscale);
      mx = _mm256_blendv_ps(mx, _mm256_max_ps(mx, x), keep_avx2(valid, j, ld, r0, lanes));
    }
    __m256 sum = _mm256_setzero_ps();
    for (int j = 0; j < n; ++j) {
      float* sj = st + static_cast<size_t>(j) * ld + r0;
      const __m256 x = _mm256_mul_ps(_mm256_loadu_ps(sj), vscale);
      const __m256 p =
          _mm256_and_ps(keep_avx2(valid, j, ld, r0, lanes), exp_avx2(_mm256_sub_ps(x, mx)));
      _mm256_storeu_ps(sj, p);
      sum = _mm256_add_ps(sum, p);
    }
    const __m256 a = exp_avx2(_mm256_sub_ps(m_old, mx));
    const __m256 l_new = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(l + r0), a), sum);
    const __m256i store = _mm256_castps_si256(lanes);
    _mm256_maskstore_ps(alpha + r0, store, a);
    _mm256_maskstore_ps(l + r0, store, l_new);
    _mm256_maskstore_ps(m + r0, store, mx);
  }
}

// ---------------------------------------------------------------- portable: the same chains

void scores_scalar(const float* qt, int ld, const float* const* k, int n, int hd, float* st) {
  for (int j = 0; j < n; ++j)
    for (int r = 0; r < ld; ++r) {
      float acc = 0.0f;
      for (int d = 0; d < hd; ++d)
        acc = std::fma(k[j][d], qt[static_cast<size_t>(d) * ld + r], acc);
      st[static_cast<size_t>(j) * ld + r] = acc;
    }
}

void softmax_scalar(float* st, int ld, int rows, int n, float scale, const float* valid, float* m,
                    float* l, float* alpha) {
  for (int r = 0; r < rows; ++r) {
    auto keep = [&](int j) { return !valid || valid[static_cast<size_t>(j) * ld + r] != 0.0f; };
    float mx = m[r];
    for (int j = 0; j < n; ++j) {
      const float x = st[static_cast<size_t>(j) * ld + r] * scale;
      if (keep(j) && x > mx) mx = x;
    }
    float sum = 0.0f;
    for (int j = 0; j < n; ++j) {
      float& s = st[static_cast<size_t>(j) * ld + r];
      s = keep(j) ? tile::exp(s * scale - mx) : 0.0f;
      sum += s;
    }
    alpha[r] = tile::exp(m[r] - mx);
    l[r] = l[r] * alpha[r] + sum;
    m[r] = mx;
  }
}

void probabilities_scalar(float* row, int n, float m, float inv_sum) {
  for (int k = 0; k < n; ++k) row[k] = row[k] == -INFINITY ? 0.0f : tile::exp(row[k] - m) * inv_sum;
}

}  // namespace

float exp(float x) {
  x = x < kLo ? kLo : x > kHi ? kHi : x;
  const float k = std::nearbyint(x * kLog2e);
  float r = std::fma(-k, kLn2Hi, x);
  r = std::fma(-k, kLn2Lo, r);
  float p = kP[0];
  for (int i = 1; i < 6; ++i) p = std::fma(p, r, kP[i]);
  const float e = std::fma(p, r * r, r) + 1.0f;
  return e * std::bit_cast<float>((static_cast<int32_t>(k) + 127) << 23);
}

void scores(Isa isa, const float* qt, int ld, const float* const* k, int n, int hd, float* st) {
  if (isa == Isa::Avx512) {
    // 64 rows at a time (24 accumulators for 6 keys), then 16.
    for (int r0 = 0; r0 < ld;) {
      const bool wide = ld - r0 >= 64;
      in_groups<6>(n, [&]<int JR>(int j) {
        if (wide)
          scores_avx512<JR, 4>(qt + r0, ld, k + j, hd, st + j * ld + r0);
        else
          scores_avx512<JR, 1>(qt + r0, ld, k + j, hd, st + j * ld + r0);
      });
      r0 += wide ? 64 : 16;
    }
  } else if (isa == Isa::Avx2) {
    for (int r0 = 0; r0 < ld; r0 += 16)
      in_groups<4>(
          n, [&]<int JR>(int j) { scores_avx2<JR>(qt + r0, ld, k + j, hd, st + j * ld + r0); });
  } else {
    scores_scalar(qt, ld, k, n, hd, st);
  }
}

void softmax(Isa isa, float* st, int ld, int rows, int n, float scale, const float* valid, float* m,
             float* l, float* alpha) {
  if (isa == Isa::Avx512)
    softmax_avx512(st, ld, rows, n, scale, valid, m, l, alpha);
  else if (isa == Isa::Avx2)
    softmax_avx2(st, ld, rows, n, scale, valid, m, l, alpha);
  else
    softmax_scalar(st, ld, rows, n, scale, valid, m, l, alpha);
}

void probabilities(Isa isa, float* row, int n, float m, float inv_sum) {
  // AVX2 has no masked loads for a row's tail; its rows take the portable loop (same bits).
  if (isa == Isa::Avx512)
    probabilities_avx512(row, n, m, inv_sum);
  else
    probabilities_scalar(row, n, m, inv_sum);
}

void pv(Isa isa, const float* pt, int ld, int rows, const float* const* v, int n, int hd,
        const float* alpha, float* o) {
  // The vectors run along d here, so head_dim must fill them; any other hd takes the portable
  // path (same bits).
  if (isa == Isa::Avx512 && hd % 16 != 0) isa = Isa::Avx2;
  if (isa == Isa::Avx2 && hd % 8 != 0) isa = Isa::Scalar;
  const size_t rs = 1, js = ld;  // P is transposed: pt[j * ld + r]
  if (isa == Isa::Avx512) {
    in_groups<6>(rows, [&]<int R>(int r) {
      simd::pv_rows_avx512<R>(pt + r, rs, js, v, n, hd, alpha + r, o + r * hd);
    });
  } else if (isa == Isa::Avx2) {
    in_groups<3>(rows, [&]<int R>(int r) {
      simd::pv_rows_avx2<R>(pt + r, rs, js, v, n, hd, alpha + r, o + r * hd);
    });
  } else {
    simd::pv_rows_scalar(pt, rs, js, rows, v, n, hd, alpha, o);
  }
}

}  // namespace core::tile
