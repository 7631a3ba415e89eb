// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() and then warn that the value
// is uninitialized where they inline; the warning is about the header, not this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/attention/cpu_decode_kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "core/attention/cpu_exp_simd.h"
#include "core/attention/cpu_pv_simd.h"
#include "core/attention/cpu_tile_kernels.h"

namespace core::decode {

namespace {

// ---------------------------------------------------------------- the halving tree

// (L, L+4), (L, L+2), (L, L+1) on the 8 lane sums b[0..7] of one 256-bit register.
ATTNLAB_AVX2 inline float tree8_avx2(__m256 b) {
  const __m128 c = _mm_add_ps(_mm256_castps256_ps128(b), _mm256_extractf128_ps(b, 1));
  const __m128 d = _mm_add_ps(c, _mm_movehl_ps(c, c));
  return _mm_cvtss_f32(_mm_add_ss(d, _mm_movehdup_ps(d)));
}

ATTNLAB_AVX512 inline float tree16_avx512(__m512 a) {
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1));
  return tree8_avx2(_mm256_add_ps(_mm512_castps512_ps256(a), hi));
}

float tree16_scalar(const float* a) {
  float b[8], c[4];
  for (int i = 0; i < 8; ++i) b[i] = a[i] + a[i + 8];
  for (int i = 0; i < 4; ++i) c[i] = b[i] + b[i + 4];
  return (c[0] + c[2]) + (c[1] + c[3]);
}

// ---------------------------------------------------------------- scores (hd % 16 == 0)

// The scores of 16 keys for row q (k[j] for j < 16): 16 accumulators, one a key, each lane an
// FMA chain over d; then all 16 halving trees at once, pairing registers (a transposed
// reduction): the 256-bit halves, the 128-bit blocks, the pairs, the lanes of a pair.
template <int C>  // hd / 16 when fixed at compile time, else 0
ATTNLAB_AVX512 void scores16_avx512(const float* q, const float* const* k, int hd, float scale,
                                    float* s) {
  const int nc = C > 0 ? C : hd / 16;
  __m512 a[16];
#pragma GCC unroll 16
  for (int j = 0; j < 16; ++j) {
    const float* kj = k[j];
    a[j] = _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int c = 0; c < nc; ++c)
      a[j] = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16 * c), _mm512_loadu_ps(kj + 16 * c), a[j]);
  }
  // (L, L+8): keys 2i and 2i+1 share b[i], each in two 128-bit blocks.
  __m512 b[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)
    b[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0x44),
                         _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0xee));
  // (L, L+4): keys 4i..4i+3 share d[i], one 128-bit block each.
  __m512 d[4];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i)
    d[i] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0x88),
                         _mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0xdd));
  // (L, L+2): block k of e[i] holds keys 8i + k and 8i + k + 4, two lanes each.
  __m512 e[2];
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i)
    e[i] = _mm512_add_ps(_mm512_shuffle_ps(d[2 * i], d[2 * i + 1], 0x44),
                         _mm512_shuffle_ps(d[2 * i], d[2 * i + 1], 0xee));
  // (L, L+1): lane i of block k is key k + 4i; the permutation puts key j in lane j.
  const __m512 f =
      _mm512_add_ps(_mm512_shuffle_ps(e[0], e[1], 0x88), _mm512_shuffle_ps(e[0], e[1], 0xdd));
  const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  _mm512_storeu_ps(s, _mm512_mul_ps(_mm512_permutexvar_ps(idx, f), _mm512_set1_ps(scale)));
}

ATTNLAB_AVX512 void scores_avx512(const float* q, int g, const float* const* k, int n, int hd,
                                  float scale, float* s) {
  for (int j0 = 0; j0 < n; j0 += 16) {
    // A last group of fewer than 16 keys repeats key j0; those scores land past n, unread.
    const float* kg[16];
    for (int j = 0; j < 16; ++j) kg[j] = k[j0 + j < n ? j0 + j : j0];
    for (int r = 0; r < g; ++r) {
      const float* qr = q + r * hd;
      float* sr = s + r * kKeys + j0;
      if (hd == 64)
        scores16_avx512<4>(qr, kg, hd, scale, sr);
      else if (hd == 128)
        scores16_avx512<8>(qr, kg, hd, scale, sr);
      else if (hd == 256)
        scores16_avx512<16>(qr, kg, hd, scale, sr);
      else
        scores16_avx512<0>(qr, kg, hd, scale, sr);
    }
  }
}

ATTNLAB_AVX2 void scores_avx2(const float* q, int g, const float* const* k, int n, int hd,
                              float scale, float* s) {
  for (int j = 0; j < n; ++j) {
    const float* kj = k[j];
    for (int r = 0; r < g; ++r) {
      const float* qr = q + r * hd;
      __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
      for (int d = 0; d < hd; d += 16) {
        lo = _mm256_fmadd_ps(_mm256_loadu_ps(qr + d), _mm256_loadu_ps(kj + d), lo);
        hi = _mm256_fmadd_ps(_mm256_loadu_ps(qr + d + 8), _mm256_loadu_ps(kj + d + 8), hi);
      }
      s[r * kKeys + j] = tree8_avx2(_mm256_add_ps(lo, hi)) * scale;
    }
  }
}

void scores_scalar(const float* q, int g, const float* const* k, int n, int hd, float scale,
                   float* s) {
  for (int j = 0; j < n; ++j)
    for (int r = 0; r < g; ++r) {
      float a[16] = {};
      for (int d = 0; d < hd; ++d) a[d % 16] = std::fma(q[r * hd + d], k[j][d], a[d % 16]);
      s[r * kKeys + j] = tree16_scalar(a) * scale;
    }
}

// ---------------------------------------------------------------- softmax

ATTNLAB_AVX512 void softmax_avx512(float* s, int g, int n, float* m, float* l, float* alpha) {
  for (int r = 0; r < g; ++r) {
    float* sr = s + r * kKeys;
    __m512 mx = _mm512_set1_ps(m[r]);
    for (int j = 0; j < n; j += 16) {
      const __mmask16 in =
          n - j >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << (n - j)) - 1);
      mx = _mm512_mask_max_ps(mx, in, mx, _mm512_maskz_loadu_ps(in, sr + j));
    }
    const float m_new = _mm512_reduce_max_ps(mx);
    const __m512 vm = _mm512_set1_ps(m_new);
    __m512 sum = _mm512_setzero_ps();
    for (int j = 0; j < n; j += 16) {
      const __mmask16 in =
          n - j >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << (n - j)) - 1);
      const __m512 e = tile::simd::exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(in, sr + j), vm));
      const __m512 p = _mm512_maskz_mov_ps(in, e);
      sum = _mm512_add_ps(sum, p);
      _mm512_storeu_ps(sr + j, p);
    }
    alpha[r] = tile::exp(m[r] - m_new);
    l[r] = l[r] * alpha[r] + tree16_avx512(sum);
    m[r] = m_new;
  }
}

// Lanes j0..j0+7 of a row that hold one of its n keys: all ones where j0 + lane < n.
ATTNLAB_AVX2 inline __m256i lanes_avx2(int j0, int n) {
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n - j0), iota);
}

ATTNLAB_AVX2 void softmax_avx2(float* s, int g, int n, float* m, float* l, float* alpha) {
  for (int r = 0; r < g; ++r) {
    float* sr = s + r * kKeys;
    float m_new = m[r];
    __m256 mx = _mm256_set1_ps(m[r]);
    for (int j = 0; j < n; j += 8) {
      const __m256i in = lanes_avx2(j, n);
      mx = _mm256_blendv_ps(mx, _mm256_max_ps(mx, _mm256_maskload_ps(sr + j, in)),
                            _mm256_castsi256_ps(in));
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, mx);
    for (float v : lanes) m_new = v > m_new ? v : m_new;
    const __m256 vm = _mm256_set1_ps(m_new);
    // Keys j with j % 16 < 8 go to sum[0], the others to sum[1]: lane L of the 16 is sum[0][L]
    // or sum[1][L - 8].
    __m256 sum[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int j = 0; j < n; j += 8) {
      const __m256i in = lanes_avx2(j, n);
      const __m256 e = tile::simd::exp_avx2(_mm256_sub_ps(_mm256_maskload_ps(sr + j, in), vm));
      const __m256 p = _mm256_and_ps(e, _mm256_castsi256_ps(in));
      sum[(j / 8) % 2] = _mm256_add_ps(sum[(j / 8) % 2], p);
      _mm256_storeu_ps(sr + j, p);
    }
    alpha[r] = tile::exp(m[r] - m_new);
    l[r] = l[r] * alpha[r] + tree8_avx2(_mm256_add_ps(sum[0], sum[1]));
    m[r] = m_new;
  }
}

void softmax_scalar(float* s, int g, int n, float* m, float* l, float* alpha) {
  for (int r = 0; r < g; ++r) {
    float* sr = s + r * kKeys;
    float m_new = m[r];
    for (int j = 0; j < n; ++j) m_new = sr[j] > m_new ? sr[j] : m_new;
    float sum[16] = {};
    for (int j = 0; j < n; ++j) {
      sr[j] = tile::exp(sr[j] - m_new);
      sum[j % 16] += sr[j];
    }
    alpha[r] = tile::exp(m[r] - m_new);
    l[r] = l[r] * alpha[r] + tree16_scalar(sum);
    m[r] = m_new;
  }
}

}  // namespace

void scores(Isa isa, const float* q, int g, const float* const* k, int n, int hd, float scale,
            float* s) {
  // The vectors run along d: any other head_dim takes the portable path (same bits).
  if (hd % 16 != 0) isa = Isa::Scalar;
  if (isa == Isa::Avx512)
    scores_avx512(q, g, k, n, hd, scale, s);
  else if (isa == Isa::Avx2)
    scores_avx2(q, g, k, n, hd, scale, s);
  else
    scores_scalar(q, g, k, n, hd, scale, s);
}

void softmax(Isa isa, float* s, int g, int n, float* m, float* l, float* alpha) {
  if (isa == Isa::Avx512)
    softmax_avx512(s, g, n, m, l, alpha);
  else if (isa == Isa::Avx2)
    softmax_avx2(s, g, n, m, l, alpha);
  else
    softmax_scalar(s, g, n, m, l, alpha);
}

void pv(Isa isa, const float* p, int g, const float* const* v, int n, int hd, const float* alpha,
        float* o) {
  // The vectors run along d: head dims that do not fill them take the portable path (same
  // bits, one chain per element either way).
  if (isa == Isa::Avx512 && hd % 16 != 0) isa = Isa::Avx2;
  if (isa == Isa::Avx2 && hd % 8 != 0) isa = Isa::Scalar;
  for (int r = 0; r < g;) {
    const int rows = isa == Isa::Avx512 ? std::min(4, g - r) : std::min(3, g - r);
    const float* pr = p + r * kKeys;
    float* orow = o + r * hd;
    const size_t rs = kKeys, js = 1;  // p is row-major: p[r * kKeys + j]
    if (isa == Isa::Avx512) {
      if (rows == 4) tile::simd::pv_rows_avx512<4>(pr, rs, js, v, n, hd, alpha + r, orow);
      if (rows == 3) tile::simd::pv_rows_avx512<3>(pr, rs, js, v, n, hd, alpha + r, orow);
      if (rows == 2) tile::simd::pv_rows_avx512<2>(pr, rs, js, v, n, hd, alpha + r, orow);
      if (rows == 1) tile::simd::pv_rows_avx512<1>(pr, rs, js, v, n, hd, alpha + r, orow);
    } else if (isa == Isa::Avx2) {
      if (rows == 3) tile::simd::pv_rows_avx2<3>(pr, rs, js, v, n, hd, alpha + r, orow);
      if (rows == 2) tile::simd::pv_rows_avx2<2>(pr, rs, js, v, n, hd, alpha + r, orow);
      if (rows == 1) tile::simd::pv_rows_avx2<1>(pr, rs, js, v, n, hd, alpha + r, orow);
    } else {
      tile::simd::pv_rows_scalar(pr, rs, js, rows, v, n, hd, alpha + r, orow);
    }
    r += rows;
  }
}

}  // namespace core::decode
