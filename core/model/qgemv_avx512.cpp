// AVX-512 row dot products for qgemv: sixteen codes widen to sixteen floats at once, and the
// K-quants (Q4_K, Q6_K) decode their sub-block scales once per 256 elements. Compiled for
// AVX-512 by function attribute; qgemv_rows calls them only where the CPU has it.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "core/model/qgemv_kernels.h"

#define ATTNLAB_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

namespace core::model::kernels {

namespace {

ATTNLAB_AVX512 float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

ATTNLAB_AVX512 __m512 u8x16(__m128i v) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(v));
}

ATTNLAB_AVX512 float dot_f32(const float* w, const float* x, int n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(x + i), a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 16), _mm512_loadu_ps(x + i + 16), a1);
  }
  if (i < n) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(x + i), a0);  // n%32==16
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

// Q4_1: x = q*d + m; the m part is m * Σ x over the block (xsum).
ATTNLAB_AVX512 float dot_q4_1(const uint8_t* row, const float* x, const float* xsum, int nb) {
  const __m128i low4 = _mm_set1_epi8(0x0f);
  __m512 acc = _mm512_setzero_ps();
  float offsets = 0.0f;
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * 20;
    const __m128i qs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 4));
    const float* xb = x + b * 32;
    __m512 s = _mm512_mul_ps(u8x16(_mm_and_si128(qs, low4)), _mm512_loadu_ps(xb));
    s = _mm512_fmadd_ps(u8x16(_mm_and_si128(_mm_srli_epi16(qs, 4), low4)), _mm512_loadu_ps(xb + 16),
                        s);
    acc = _mm512_fmadd_ps(_mm512_set1_ps(half_at(blk)), s, acc);
    offsets += half_at(blk + 2) * xsum[b];
  }
  return _mm512_reduce_add_ps(acc) + offsets;
}

// Q5_0: x = (q - 16) * d; element j's fifth bit is qh bit j, added under a lane mask.
ATTNLAB_AVX512 float dot_q5_0(const uint8_t* row, const float* x, int nb) {
  const __m128i low4 = _mm_set1_epi8(0x0f);
  const __m512i sixteen = _mm512_set1_epi32(16);
  __m512 acc = _mm512_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * 22;
    uint32_t qh;
    std::memcpy(&qh, blk + 2, 4);
    const __m128i qs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 6));
    __m512i lo = _mm512_cvtepu8_epi32(_mm_and_si128(qs, low4));
    __m512i hi = _mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(qs, 4), low4));
    // q - 16 = nibble - 16 where the bit is clear, nibble where it is set.
    lo = _mm512_mask_add_epi32(_mm512_sub_epi32(lo, sixteen), static_cast<__mmask16>(qh), lo,
                               _mm512_setzero_si512());
    hi = _mm512_mask_add_epi32(_mm512_sub_epi32(hi, sixteen), static_cast<__mmask16>(qh >> 16), hi,
                               _mm512_setzero_si512());
    const float* xb = x + b * 32;
    __m512 s = _mm512_mul_ps(_mm512_cvtepi32_ps(lo), _mm512_loadu_ps(xb));
    s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(hi), _mm512_loadu_ps(xb + 16), s);
    acc = _mm512_fmadd_ps(_mm512_set1_ps(half_at(blk)), s, acc);
  }
  return _mm512_reduce_add_ps(acc);
}

// Q8_0: x = q * d.
ATTNLAB_AVX512 float dot_q8_0(const uint8_t* row, const float* x, int nb) {
  __m512 acc = _mm512_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * 34;
    const float* xb = x + b * 32;
    const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
    const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 18));
    __m512 s = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q0)), _mm512_loadu_ps(xb));
    s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q1)), _mm512_loadu_ps(xb + 16), s);
    acc = _mm512_fmadd_ps(_mm512_set1_ps(half_at(blk)), s, acc);
  }
  return _mm512_reduce_add_ps(acc);
}

// K-quants pack eight 6-bit (scale, min) pairs into 12 bytes (as dequant.cpp unpacks them).
void scale_min_k4(int j, const uint8_t* q, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Q4_K: 256 elements in 8 sub-blocks of 32, x = d*sc*q - dmin*m. Sub-block 2j is the low
// nibbles of qs[32j .. 32j+31], 2j+1 the high ones; the mins go through xsum.
ATTNLAB_AVX512 float dot_q4_k(const uint8_t* row, const float* x, const float* xsum, int nb) {
  const __m128i low4 = _mm_set1_epi8(0x0f);
  __m512 acc = _mm512_setzero_ps();
  float offsets = 0.0f;
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * 144;
    const float d = half_at(blk), dmin = half_at(blk + 2);
    const float* xb = x + b * 256;
    const float* sb = xsum + b * 8;
    for (int j = 0; j < 4; ++j) {
      const uint8_t* q = blk + 16 + 32 * j;
      const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
      const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16));
      const float* xs = xb + 64 * j;
      __m512 lo = _mm512_mul_ps(u8x16(_mm_and_si128(q0, low4)), _mm512_loadu_ps(xs));
      lo = _mm512_fmadd_ps(u8x16(_mm_and_si128(q1, low4)), _mm512_loadu_ps(xs + 16), lo);
      __m512 hi = _mm512_mul_ps(u8x16(_mm_and_si128(_mm_srli_epi16(q0, 4), low4)),
                                _mm512_loadu_ps(xs + 32));
      hi = _mm512_fmadd_ps(u8x16(_mm_and_si128(_mm_srli_epi16(q1, 4), low4)),
                           _mm512_loadu_ps(xs + 48), hi);
      int sc, m;
      scale_min_k4(2 * j, blk + 4, &sc, &m);
      acc = _mm512_fmadd_ps(_mm512_set1_ps(d * sc), lo, acc);
      offsets += dmin * m * sb[2 * j];
      scale_min_k4(2 * j + 1, blk + 4, &sc, &m);
      acc = _mm512_fmadd_ps(_mm512_set1_ps(d * sc), hi, acc);
      offsets += dmin * m * sb[2 * j + 1];
    }
  }
  return _mm512_reduce_add_ps(acc) - offsets;
}

// Q6_K: 256 elements, ql[128] qh[64] scales[16] (int8) d; q = (4 low bits | 2 high bits) - 32
// in 16 sub-blocks of 16, each with its own scale.
ATTNLAB_AVX512 float dot_q6_k(const uint8_t* row, const float* x, int nb) {
  const __m128i m4 = _mm_set1_epi8(0x0f);
  const __m128i m2 = _mm_set1_epi8(0x03);
  const __m512i off = _mm512_set1_epi32(32);
  __m512 acc = _mm512_setzero_ps();
  auto term = [&](__m128i q6, const float* xs, float scale) ATTNLAB_AVX512 {
    const __m512 qf = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_cvtepu8_epi32(q6), off));
    acc = _mm512_fmadd_ps(_mm512_set1_ps(scale), _mm512_mul_ps(qf, _mm512_loadu_ps(xs)), acc);
  };
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * 210;
    const int8_t* sc = reinterpret_cast<const int8_t*>(blk + 192);
    const float d = half_at(blk + 208);
    for (int n = 0; n < 2; ++n) {
      const uint8_t* ql = blk + 64 * n;
      const uint8_t* qh = blk + 128 + 32 * n;
      const float* xs = x + b * 256 + 128 * n;
      for (int l0 = 0; l0 < 32; l0 += 16) {
        const int is = 8 * n + l0 / 16;
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ql + l0));
        const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ql + 32 + l0));
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qh + l0));
        auto high = [&](int shift) ATTNLAB_AVX512 {
          return _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(h, shift), m2), 4);
        };
        term(_mm_or_si128(_mm_and_si128(a, m4), high(0)), xs + l0, d * sc[is]);
        term(_mm_or_si128(_mm_and_si128(c, m4), high(2)), xs + l0 + 32, d * sc[is + 2]);
        term(_mm_or_si128(_mm_and_si128(_mm_srli_epi16(a, 4), m4), high(4)), xs + l0 + 64,
             d * sc[is + 4]);
        term(_mm_or_si128(_mm_and_si128(_mm_srli_epi16(c, 4), m4), high(6)), xs + l0 + 96,
             d * sc[is + 6]);
      }
    }
  }
  return _mm512_reduce_add_ps(acc);
}

}  // namespace

float dot_avx512(const QuantMatrix& w, const uint8_t* row, const float* x, const float* xsum) {
  switch (w.type) {
    case TensorType::Q4_1:
      return dot_q4_1(row, x, xsum, w.cols / 32);
    case TensorType::Q5_0:
      return dot_q5_0(row, x, w.cols / 32);
    case TensorType::Q8_0:
      return dot_q8_0(row, x, w.cols / 32);
    case TensorType::Q4_K:
      return dot_q4_k(row, x, xsum, w.cols / 256);
    case TensorType::Q6_K:
      return dot_q6_k(row, x, w.cols / 256);
    case TensorType::F32:
      return dot_f32(reinterpret_cast<const float*>(row), x, w.cols);
    default:
      return dot_generic(w, row, x, Isa::Avx2);
  }
}

}  // namespace core::model::kernels
