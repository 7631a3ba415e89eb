// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() and then warn that the value
// is uninitialized where they inline; the warning is about the header, not this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/attention/cpu_tile_kernels.h"

#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstdint>

#define ATTNLAB_AVX512 __attribute__((target("avx512f,fma")))
#define ATTNLAB_AVX2 __attribute__((target("avx2,fma")))

namespace core::tile {

namespace {

// tile::exp's constants (Cephes expf): ln2 in two parts, the polynomial for e^r.
constexpr float kLo = -87.3f, kHi = 88.3f, kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr float kP[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                         4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

// ---- AVX-512: scores for R rows x 64 keys (4R accumulators), P·V for R rows x 16·NV dims.

template <int R>
ATTNLAB_AVX512 void scores_avx512(const float* const* q, const float* kt, int hd, float* s) {
  __m512 acc[R][4];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int d = 0; d < hd; ++d) {
    const float* kd = kt + static_cast<size_t>(d) * kKeys;
    const __m512 k0 = _mm512_loadu_ps(kd), k1 = _mm512_loadu_ps(kd + 16);
    const __m512 k2 = _mm512_loadu_ps(kd + 32), k3 = _mm512_loadu_ps(kd + 48);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 b = _mm512_set1_ps(q[r][d]);
      acc[r][0] = _mm512_fmadd_ps(b, k0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(b, k1, acc[r][1]);
      acc[r][2] = _mm512_fmadd_ps(b, k2, acc[r][2]);
      acc[r][3] = _mm512_fmadd_ps(b, k3, acc[r][3]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < 4; ++c) _mm512_storeu_ps(s + r * kKeys + 16 * c, acc[r][c]);
}

template <int R, int NV>
ATTNLAB_AVX512 void pv_avx512(const float* p, const float* v, int n, int hd, const float* alpha,
                              float* o) {
  __m512 acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NV; ++c)
      acc[r][c] = _mm512_mul_ps(_mm512_set1_ps(alpha[r]), _mm512_loadu_ps(o + r * hd + 16 * c));
  for (int j = 0; j < n; ++j) {
    __m512 vj[NV];
    for (int c = 0; c < NV; ++c) vj[c] = _mm512_loadu_ps(v + static_cast<size_t>(j) * hd + 16 * c);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 b = _mm512_set1_ps(p[r * kKeys + j]);
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_fmadd_ps(b, vj[c], acc[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(o + r * hd + 16 * c, acc[r][c]);
}

// ---- AVX2: scores for R rows x 16 keys, P·V for R rows x 8·NV dims.

template <int R>
ATTNLAB_AVX2 void scores_avx2(const float* const* q, const float* kt, int hd, float* s) {
  for (int c0 = 0; c0 < kKeys; c0 += 16) {
    __m256 acc[R][2];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int d = 0; d < hd; ++d) {
      const float* kd = kt + static_cast<size_t>(d) * kKeys + c0;
      const __m256 k0 = _mm256_loadu_ps(kd), k1 = _mm256_loadu_ps(kd + 8);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256 b = _mm256_broadcast_ss(q[r] + d);
        acc[r][0] = _mm256_fmadd_ps(b, k0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(b, k1, acc[r][1]);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(s + r * kKeys + c0, acc[r][0]);
      _mm256_storeu_ps(s + r * kKeys + c0 + 8, acc[r][1]);
    }
  }
}

template <int R, int NV>
ATTNLAB_AVX2 void pv_avx2(const float* p, const float* v, int n, int hd, const float* alpha,
                          float* o) {
  __m256 acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NV; ++c)
      acc[r][c] = _mm256_mul_ps(_mm256_set1_ps(alpha[r]), _mm256_loadu_ps(o + r * hd + 8 * c));
  for (int j = 0; j < n; ++j) {
    __m256 vj[NV];
    for (int c = 0; c < NV; ++c) vj[c] = _mm256_loadu_ps(v + static_cast<size_t>(j) * hd + 8 * c);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 b = _mm256_broadcast_ss(p + r * kKeys + j);
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm256_fmadd_ps(b, vj[c], acc[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NV; ++c) _mm256_storeu_ps(o + r * hd + 8 * c, acc[r][c]);
}

ATTNLAB_AVX512 __m512 exp_avx512(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(kLo)), _mm512_set1_ps(kHi));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kP[0]);
  for (int i = 1; i < 6; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP[i]));
  const __m512 e = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  const __m512i bits =
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(e, _mm512_castsi512_ps(bits));
}

ATTNLAB_AVX512 void softmax_avx512(float* s, int rows, int n, float scale, const float* valid,
                                   int valid_group, float* m, float* l, float* alpha) {
  const __m512 vscale = _mm512_set1_ps(scale);
  for (int r = 0; r < rows; ++r) {
    float* sr = s + r * kKeys;
    const float* vr = valid ? valid + (r / valid_group) * kKeys : nullptr;
    __mmask16 keep[4];
    __m512 vmax = _mm512_set1_ps(-INFINITY);
    for (int g = 0; g < 4; ++g) {
      const int left = n - 16 * g;
      keep[g] = left >= 16 ? 0xffff : left <= 0 ? 0 : static_cast<__mmask16>((1u << left) - 1);
      if (vr)
        keep[g] &=
            _mm512_cmp_ps_mask(_mm512_loadu_ps(vr + 16 * g), _mm512_setzero_ps(), _CMP_NEQ_UQ);
      const __m512 x = _mm512_mul_ps(_mm512_loadu_ps(sr + 16 * g), vscale);
      vmax = _mm512_mask_max_ps(vmax, keep[g], vmax, x);
    }
    const float tile_max = _mm512_reduce_max_ps(vmax);
    const float mx = tile_max > m[r] ? tile_max : m[r];
    const __m512 vm = _mm512_set1_ps(mx);
    __m512 sum = _mm512_setzero_ps();
    for (int g = 0; g < 4; ++g) {
      const __m512 x = _mm512_mul_ps(_mm512_loadu_ps(sr + 16 * g), vscale);
      const __m512 p = _mm512_maskz_mov_ps(keep[g], exp_avx512(_mm512_sub_ps(x, vm)));
      _mm512_storeu_ps(sr + 16 * g, p);
      sum = _mm512_add_ps(sum, p);
    }
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, sum);
    float total = 0.0f;
    for (int i = 0; i < 16; ++i) total += lanes[i];
    alpha[r] = tile::exp(m[r] - mx);
    l[r] = l[r] * alpha[r] + total;
    m[r] = mx;
  }
}

ATTNLAB_AVX2 __m256 exp_avx2(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(kLo)), _mm256_set1_ps(kHi));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kP[0]);
  for (int i = 1; i < 6; ++i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP[i]));
  const __m256 e = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  const __m256i bits =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(e, _mm256_castsi256_ps(bits));
}

ATTNLAB_AVX2 void softmax_avx2(float* s, int rows, int n, float scale, const float* valid,
                               int valid_group, float* m, float* l, float* alpha) {
  const __m256 vscale = _mm256_set1_ps(scale);
  const __m256 iota = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256 vn = _mm256_set1_ps(static_cast<float>(n));
  for (int r = 0; r < rows; ++r) {
    float* sr = s + r * kKeys;
    const float* vr = valid ? valid + (r / valid_group) * kKeys : nullptr;
    __m256 keep[8];
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (int g = 0; g < 8; ++g) {
      const __m256 idx = _mm256_add_ps(iota, _mm256_set1_ps(static_cast<float>(8 * g)));
      keep[g] = _mm256_cmp_ps(idx, vn, _CMP_LT_OQ);
      if (vr)
        keep[g] = _mm256_and_ps(
            keep[g], _mm256_cmp_ps(_mm256_loadu_ps(vr + 8 * g), _mm256_setzero_ps(), _CMP_NEQ_UQ));
      const __m256 x = _mm256_mul_ps(_mm256_loadu_ps(sr + 8 * g), vscale);
      vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), x, keep[g]));
    }
    alignas(32) float part[8];
    _mm256_store_ps(part, vmax);
    float mx = m[r];
    for (int i = 0; i < 8; ++i) mx = part[i] > mx ? part[i] : mx;
    const __m256 vm = _mm256_set1_ps(mx);
    __m256 sum[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int g = 0; g < 8; ++g) {
      const __m256 x = _mm256_mul_ps(_mm256_loadu_ps(sr + 8 * g), vscale);
      const __m256 p = _mm256_and_ps(keep[g], exp_avx2(_mm256_sub_ps(x, vm)));
      _mm256_storeu_ps(sr + 8 * g, p);
      sum[g % 2] = _mm256_add_ps(sum[g % 2], p);
    }
    alignas(32) float lanes[16];
    _mm256_store_ps(lanes, sum[0]);
    _mm256_store_ps(lanes + 8, sum[1]);
    float total = 0.0f;
    for (int i = 0; i < 16; ++i) total += lanes[i];
    alpha[r] = tile::exp(m[r] - mx);
    l[r] = l[r] * alpha[r] + total;
    m[r] = mx;
  }
}

void softmax_scalar(float* s, int rows, int n, float scale, const float* valid, int valid_group,
                    float* m, float* l, float* alpha) {
  for (int r = 0; r < rows; ++r) {
    float* sr = s + r * kKeys;
    const float* vr = valid ? valid + (r / valid_group) * kKeys : nullptr;
    auto keep = [&](int j) { return j < n && (!vr || vr[j] != 0.0f); };
    float mx = m[r];
    for (int j = 0; j < kKeys; ++j)
      if (keep(j) && sr[j] * scale > mx) mx = sr[j] * scale;
    float lanes[16] = {};
    for (int j = 0; j < kKeys; ++j) {
      const float p = keep(j) ? tile::exp(sr[j] * scale - mx) : 0.0f;
      sr[j] = p;
      lanes[j % 16] += p;
    }
    float total = 0.0f;
    for (int i = 0; i < 16; ++i) total += lanes[i];
    alpha[r] = tile::exp(m[r] - mx);
    l[r] = l[r] * alpha[r] + total;
    m[r] = mx;
  }
}

// ---- Portable: the same fma chains one element at a time.

void scores_scalar(const float* const* q, int rows, const float* kt, int hd, float* s) {
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < kKeys; ++j) {
      float acc = 0.0f;
      for (int d = 0; d < hd; ++d)
        acc = std::fma(q[r][d], kt[static_cast<size_t>(d) * kKeys + j], acc);
      s[r * kKeys + j] = acc;
    }
}

void pv_scalar(const float* p, int rows, const float* v, int n, int hd, const float* alpha,
               float* o) {
  for (int r = 0; r < rows; ++r)
    for (int e = 0; e < hd; ++e) {
      float acc = alpha[r] * o[r * hd + e];
      for (int j = 0; j < n; ++j)
        acc = std::fma(p[r * kKeys + j], v[static_cast<size_t>(j) * hd + e], acc);
      o[r * hd + e] = acc;
    }
}

// Rows in groups of R, the last group smaller.
template <int R, typename Fn>
void by_rows(int rows, Fn&& fn) {
  int r = 0;
  for (; r + R <= rows; r += R) fn.template operator()<R>(r);
  if constexpr (R > 1)
    if (r < rows)
      by_rows<R - 1>(rows - r, [&]<int S>(int r2) { fn.template operator()<S>(r + r2); });
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

void softmax(Isa isa, float* s, int rows, int n, float scale, const float* valid, int valid_group,
             float* m, float* l, float* alpha) {
  switch (isa) {
    case Isa::Avx512:
      return softmax_avx512(s, rows, n, scale, valid, valid_group, m, l, alpha);
    case Isa::Avx2:
      return softmax_avx2(s, rows, n, scale, valid, valid_group, m, l, alpha);
    case Isa::Scalar:
      return softmax_scalar(s, rows, n, scale, valid, valid_group, m, l, alpha);
  }
}

Isa isa_for(Isa isa, int hd) {
  if (isa == Isa::Avx512 && hd % 16 != 0) isa = Isa::Avx2;
  if (isa == Isa::Avx2 && hd % 8 != 0) isa = Isa::Scalar;
  return isa;
}

void scores(Isa isa, const float* const* q, int rows, const float* kt, int hd, float* s) {
  switch (isa_for(isa, hd)) {
    case Isa::Avx512:
      by_rows<6>(rows, [&]<int R>(int r) { scores_avx512<R>(q + r, kt, hd, s + r * kKeys); });
      return;
    case Isa::Avx2:
      by_rows<6>(rows, [&]<int R>(int r) { scores_avx2<R>(q + r, kt, hd, s + r * kKeys); });
      return;
    case Isa::Scalar:
      scores_scalar(q, rows, kt, hd, s);
      return;
  }
}

void pv(Isa isa, const float* p, int rows, const float* v, int n, int hd, const float* alpha,
        float* o) {
  switch (isa_for(isa, hd)) {
    case Isa::Avx512:
      // 64 dims at a time (24 accumulators), then 16.
      by_rows<6>(rows, [&]<int R>(int r) {
        int e = 0;
        for (; e + 64 <= hd; e += 64)
          pv_avx512<R, 4>(p + r * kKeys, v + e, n, hd, alpha + r, o + r * hd + e);
        for (; e < hd; e += 16)
          pv_avx512<R, 1>(p + r * kKeys, v + e, n, hd, alpha + r, o + r * hd + e);
      });
      return;
    case Isa::Avx2:
      by_rows<3>(rows, [&]<int R>(int r) {
        int e = 0;
        for (; e + 32 <= hd; e += 32)
          pv_avx2<R, 4>(p + r * kKeys, v + e, n, hd, alpha + r, o + r * hd + e);
        for (; e < hd; e += 8)
          pv_avx2<R, 1>(p + r * kKeys, v + e, n, hd, alpha + r, o + r * hd + e);
      });
      return;
    case Isa::Scalar:
      pv_scalar(p, rows, v, n, hd, alpha, o);
      return;
  }
}

}  // namespace core::tile
