// GCC 12 flags the undefined-value intrinsics inside avx512fintrin.h (a false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/model/activations.h"

#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "core/attention/cpu_isa.h"
#include "core/attention/fast_exp.h"

namespace core::model {

namespace {

// The exact SwiGLU with libm's expf, one element at a time; the loader picks the widest clone
// the CPU supports. attn::exp_poly here (1 ulp) moved the SmolLM2 window-6 golden test's worst
// probability error from 0.26 to 0.78 of its tolerance, so the exact path keeps expf's bits.
__attribute__((target_clones("avx512f", "avx2", "default"))) void silu_mul_libm(float* gate,
                                                                                const float* up,
                                                                                size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + expf(-g)) * up[i];
  }
}

// glibc's expf (the algorithm of ARM's optimized-routines, Szabolcs Nagy, 2017), 16 lanes at a
// time: e^x = 2^(k/32) 2^(r/32) with k = round(32 x / ln2) and r = 32 x / ln2 - k in double,
// 2^(k/32) from a 32-entry table with k / 32 added to its exponent, 2^(r/32) by a cubic, then
// one rounding to float. The same double operations in the same order (the FMA build's: the
// reduction r and the cubic fused), so every lane gives expf's bits: expf_array matched
// glibc 2.36's expf on all 2^32 floats (tests/unit/test_activations.cpp checks a sample in
// CI). Lanes with |x| >= 87 (overflow, underflow) or NaN go to expf itself.
//
// kExp2Tab[i] = the bits of 2^(i/32) minus i << 47, so that adding k << 47 to entry k % 32
// puts k / 32 into the exponent.
constexpr uint64_t kExp2Tab[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

// e^x of 8 doubles (floats widened), as expf computes it before its final rounding.
__attribute__((target("avx512f"))) inline __m512d exp_pd(__m512d x) {
  const __m512d inv_ln2_32 = _mm512_set1_pd(0x1.71547652b82fep+0 * 32);
  const __m512d shift = _mm512_set1_pd(0x1.8p+52);  // adding it rounds to an integer
  const __m512d z = _mm512_mul_pd(inv_ln2_32, x);
  const __m512d kd_shifted = _mm512_add_pd(z, shift);
  const __m512i ki = _mm512_castpd_si512(kd_shifted);  // k in the low bits
  const __m512d r = _mm512_fmsub_pd(inv_ln2_32, x, _mm512_sub_pd(kd_shifted, shift));
  // 2^((k % 32) / 32) from the table (two 16-entry halves), then k / 32 into the exponent.
  const __m512i* tab = reinterpret_cast<const __m512i*>(kExp2Tab);
  const __m512i lo =
      _mm512_permutex2var_epi64(_mm512_loadu_si512(tab), ki, _mm512_loadu_si512(tab + 1));
  const __m512i hi =
      _mm512_permutex2var_epi64(_mm512_loadu_si512(tab + 2), ki, _mm512_loadu_si512(tab + 3));
  const __mmask8 upper = _mm512_test_epi64_mask(ki, _mm512_set1_epi64(16));
  const __m512i t =
      _mm512_add_epi64(_mm512_mask_blend_epi64(upper, lo, hi), _mm512_slli_epi64(ki, 47));
  // 2^(r/32) = 1 + c2 r + c1 r^2 + c0 r^3: the cubic's coefficients over 32, 32^2, 32^3.
  const __m512d c0 = _mm512_set1_pd(0x1.c6af84b912394p-5 / (32.0 * 32 * 32));
  const __m512d c1 = _mm512_set1_pd(0x1.ebfce50fac4f3p-3 / (32.0 * 32));
  const __m512d c2 = _mm512_set1_pd(0x1.62e42ff0c52d6p-1 / 32);
  const __m512d p = _mm512_fmadd_pd(c0, r, c1);
  const __m512d y =
      _mm512_fmadd_pd(p, _mm512_mul_pd(r, r), _mm512_fmadd_pd(c2, r, _mm512_set1_pd(1.0)));
  return _mm512_mul_pd(y, _mm512_castsi512_pd(t));
}

// expf of 16 floats, bit for bit.
__attribute__((target("avx512f"))) inline __m512 expf16(__m512 x) {
  const __m256 x0 = _mm512_castps512_ps256(x);
  const __m256 x1 = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
  const __m256 y0 = _mm512_cvtpd_ps(exp_pd(_mm512_cvtps_pd(x0)));
  const __m256 y1 = _mm512_cvtpd_ps(exp_pd(_mm512_cvtps_pd(x1)));
  __m512 y = _mm512_castpd_ps(
      _mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(y0)), _mm256_castps_pd(y1), 1));
  const __mmask16 usual = _mm512_cmp_ps_mask(_mm512_abs_ps(x), _mm512_set1_ps(87.0f), _CMP_LT_OQ);
  if (usual != 0xffff) {  // rare: overflow, underflow, NaN
    alignas(64) float xs[16], ys[16];
    _mm512_store_ps(xs, x);
    _mm512_store_ps(ys, y);
    for (int i = 0; i < 16; ++i)
      if (!(usual >> i & 1)) ys[i] = expf(xs[i]);
    y = _mm512_load_ps(ys);
  }
  return y;
}

// silu_mul_libm's float operations 16 lanes at a time: the same bits.
__attribute__((target("avx512f"))) void silu_mul_avx512(float* gate, const float* up, size_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 g = _mm512_loadu_ps(gate + i);
    const __m512 minus_g = _mm512_castsi512_ps(
        _mm512_xor_si512(_mm512_castps_si512(g), _mm512_set1_epi32(INT32_MIN)));  // -g
    const __m512 e = expf16(minus_g);
    _mm512_storeu_ps(
        gate + i, _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), _mm512_loadu_ps(up + i)));
  }
  silu_mul_libm(gate + i, up + i, n - i);
}

__attribute__((target("avx512f"))) void expf_avx512(const float* x, float* y, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, expf16(_mm512_loadu_ps(x + i)));
  for (; i < n; ++i) y[i] = expf(x[i]);
}

}  // namespace

void expf_array(const float* x, float* y, size_t n) {
  if (current_isa() == Isa::Avx512) return expf_avx512(x, y, n);
  for (size_t i = 0; i < n; ++i) y[i] = expf(x[i]);
}

void silu_mul(float* gate, const float* up, size_t n) {
  if (current_isa() == Isa::Avx512) return silu_mul_avx512(gate, up, n);
  silu_mul_libm(gate, up, n);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void silu_mul_draft(float* gate,
                                                                                 const float* up,
                                                                                 size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + attn::exp_poly(-g)) * up[i];
  }
}

// 0.5 (1 + tanh(u)) = 1 / (1 + e^(-2u)), so gelu_tanh(g) = g / (1 + e^(-2u)): one exp the loop
// vectorizes (attn::exp_poly, within 1 ulp of expf) instead of a libm tanhf call per element,
// and no 1 + tanh(u) cancellation for negative u (that sum loses all but a few bits of the
// result where tanh(u) is near -1; the quotient keeps its relative error at a few ulp).
__attribute__((target_clones("avx512f", "avx2", "default"))) void gelu_tanh_mul(float* gate,
                                                                                const float* up,
                                                                                size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    const float u = 0.7978845608028654f * (g + 0.044715f * g * g * g);
    gate[i] = g / (1.0f + attn::exp_poly(-2.0f * u)) * up[i];
  }
}

}  // namespace core::model
