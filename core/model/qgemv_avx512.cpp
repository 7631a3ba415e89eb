// AVX-512 row dot products for qgemv: sixteen codes widen to sixteen floats at once, and the
// K-quants (Q4_K, Q6_K) decode their sub-block scales once per 256 elements. Each kernel runs
// R rows at once (R = 4, or 1 for the rest): the rows share x's loads, and R accumulators
// hide the FMA latency. A decode step reads every weight once, so the rows are also
// prefetched ahead of the loads (qgemv_rows). Compiled for AVX-512 by function attribute;
// qgemv_rows calls them only where the CPU has it.
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

// Two f16 at p -> [p[0], p[1], 0, 0] as floats.
ATTNLAB_AVX512 __m128 two_halves(const uint8_t* p) {
  uint32_t h;
  std::memcpy(&h, p, 4);
  return _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(h)));
}

ATTNLAB_AVX512 __m512 i32x16(__m512i v) {
  return _mm512_cvtepi32_ps(v);
}

ATTNLAB_AVX512 __m128i load16(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// The R rows of a call: row i starts at row0 + i * stride.
struct Rows {
  const uint8_t* row0;
  size_t stride;
  const uint8_t* at(int i, size_t offset) const { return row0 + i * stride + offset; }
};

template <int R>
ATTNLAB_AVX512 void dot_f32(Rows w, const float* x, int n, float* y) {
  __m512 acc[R];
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
  for (int k = 0; k < n; k += 16) {  // n % 16 == 0 (qgemv_supported)
    const __m512 xv = _mm512_loadu_ps(x + k);
    for (int i = 0; i < R; ++i)
      acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(reinterpret_cast<const float*>(w.at(i, 0)) + k), xv,
                               acc[i]);
  }
  for (int i = 0; i < R; ++i) y[i] = _mm512_reduce_add_ps(acc[i]);
}

// Q4_1: x = q*d + m, so a block adds d * Σ q_j x_j + m * Σ x_j (xsum). Byte j holds element j
// in its low nibble and element j + 16 in its high one. Lane 1 of `off` sums m * xsum.
template <int R>
ATTNLAB_AVX512 void dot_q4_1(Rows w, const float* x, const float* xsum, int nb, float* y) {
  const __m512i low4 = _mm512_set1_epi32(0x0f);
  __m512 acc[R];
  __m128 off[R];
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps(), off[i] = _mm_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const __m512 x0 = _mm512_loadu_ps(x + b * 32), x1 = _mm512_loadu_ps(x + b * 32 + 16);
    const __m128 xs = _mm_set1_ps(xsum[b]);
    for (int i = 0; i < R; ++i) {
      const uint8_t* blk = w.at(i, static_cast<size_t>(b) * 20);
      const __m512i q = _mm512_cvtepu8_epi32(load16(blk + 4));
      const __m512 s = _mm512_fmadd_ps(i32x16(_mm512_srli_epi32(q, 4)), x1,
                                       _mm512_mul_ps(i32x16(_mm512_and_si512(q, low4)), x0));
      const __m128 dm = two_halves(blk);  // [d, m]
      acc[i] = _mm512_fmadd_ps(_mm512_broadcastss_ps(dm), s, acc[i]);
      off[i] = _mm_fmadd_ps(dm, xs, off[i]);
    }
  }
  for (int i = 0; i < R; ++i)
    y[i] = _mm512_reduce_add_ps(acc[i]) + _mm_cvtss_f32(_mm_movehdup_ps(off[i]));
}

// Q5_0: x = (q - 16) * d; element j's fifth bit is qh bit j, added under a lane mask.
template <int R>
ATTNLAB_AVX512 void dot_q5_0(Rows w, const float* x, int nb, float* y) {
  const __m512i low4 = _mm512_set1_epi32(0x0f);
  const __m512i sixteen = _mm512_set1_epi32(16);
  __m512 acc[R];
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const __m512 x0 = _mm512_loadu_ps(x + b * 32), x1 = _mm512_loadu_ps(x + b * 32 + 16);
    for (int i = 0; i < R; ++i) {
      const uint8_t* blk = w.at(i, static_cast<size_t>(b) * 22);
      uint32_t qh;
      std::memcpy(&qh, blk + 2, 4);
      const __m512i q = _mm512_cvtepu8_epi32(load16(blk + 6));
      // q - 16 = nibble - 16 where the bit is clear, nibble where it is set.
      const __m512i lo =
          _mm512_mask_sub_epi32(_mm512_and_si512(q, low4), static_cast<__mmask16>(~qh),
                                _mm512_and_si512(q, low4), sixteen);
      const __m512i hi =
          _mm512_mask_sub_epi32(_mm512_srli_epi32(q, 4), static_cast<__mmask16>(~(qh >> 16)),
                                _mm512_srli_epi32(q, 4), sixteen);
      const __m512 s = _mm512_fmadd_ps(i32x16(hi), x1, _mm512_mul_ps(i32x16(lo), x0));
      acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(half_at(blk)), s, acc[i]);
    }
  }
  for (int i = 0; i < R; ++i) y[i] = _mm512_reduce_add_ps(acc[i]);
}

// Q8_0: x = q * d.
template <int R>
ATTNLAB_AVX512 void dot_q8_0(Rows w, const float* x, int nb, float* y) {
  __m512 acc[R];
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const __m512 x0 = _mm512_loadu_ps(x + b * 32), x1 = _mm512_loadu_ps(x + b * 32 + 16);
    for (int i = 0; i < R; ++i) {
      const uint8_t* blk = w.at(i, static_cast<size_t>(b) * 34);
      const __m512 s =
          _mm512_fmadd_ps(i32x16(_mm512_cvtepi8_epi32(load16(blk + 18))), x1,
                          _mm512_mul_ps(i32x16(_mm512_cvtepi8_epi32(load16(blk + 2))), x0));
      acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(half_at(blk)), s, acc[i]);
    }
  }
  for (int i = 0; i < R; ++i) y[i] = _mm512_reduce_add_ps(acc[i]);
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
template <int R>
ATTNLAB_AVX512 void dot_q4_k(Rows w, const float* x, const float* xsum, int nb, float* y) {
  const __m512i low4 = _mm512_set1_epi32(0x0f);
  __m512 acc[R];
  float offsets[R];
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps(), offsets[i] = 0.0f;
  for (int b = 0; b < nb; ++b) {
    const float* xb = x + b * 256;
    const float* sb = xsum + b * 8;
    for (int i = 0; i < R; ++i) {
      const uint8_t* blk = w.at(i, static_cast<size_t>(b) * 144);
      const float d = half_at(blk), dmin = half_at(blk + 2);
      for (int j = 0; j < 4; ++j) {
        const uint8_t* q = blk + 16 + 32 * j;
        const float* xs = xb + 64 * j;
        const __m512i q0 = _mm512_cvtepu8_epi32(load16(q));
        const __m512i q1 = _mm512_cvtepu8_epi32(load16(q + 16));
        __m512 lo = _mm512_mul_ps(i32x16(_mm512_and_si512(q0, low4)), _mm512_loadu_ps(xs));
        lo = _mm512_fmadd_ps(i32x16(_mm512_and_si512(q1, low4)), _mm512_loadu_ps(xs + 16), lo);
        __m512 hi = _mm512_mul_ps(i32x16(_mm512_srli_epi32(q0, 4)), _mm512_loadu_ps(xs + 32));
        hi = _mm512_fmadd_ps(i32x16(_mm512_srli_epi32(q1, 4)), _mm512_loadu_ps(xs + 48), hi);
        int sc, m;
        scale_min_k4(2 * j, blk + 4, &sc, &m);
        acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(d * sc), lo, acc[i]);
        offsets[i] += dmin * m * sb[2 * j];
        scale_min_k4(2 * j + 1, blk + 4, &sc, &m);
        acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(d * sc), hi, acc[i]);
        offsets[i] += dmin * m * sb[2 * j + 1];
      }
    }
  }
  for (int i = 0; i < R; ++i) y[i] = _mm512_reduce_add_ps(acc[i]) - offsets[i];
}

// Q6_K: 256 elements, ql[128] qh[64] scales[16] (int8) d; q = (4 low bits | 2 high bits) - 32
// in 16 sub-blocks of 16, each with its own scale.
template <int R>
ATTNLAB_AVX512 void dot_q6_k(Rows w, const float* x, int nb, float* y) {
  const __m128i m4 = _mm_set1_epi8(0x0f);
  const __m128i m2 = _mm_set1_epi8(0x03);
  const __m512i off = _mm512_set1_epi32(32);
  __m512 acc[R];
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    for (int i = 0; i < R; ++i) {
      const uint8_t* blk = w.at(i, static_cast<size_t>(b) * 210);
      const int8_t* sc = reinterpret_cast<const int8_t*>(blk + 192);
      const float d = half_at(blk + 208);
      auto term = [&](__m128i q6, const float* xs, float scale) ATTNLAB_AVX512 {
        const __m512 qf = i32x16(_mm512_sub_epi32(_mm512_cvtepu8_epi32(q6), off));
        acc[i] =
            _mm512_fmadd_ps(_mm512_set1_ps(scale), _mm512_mul_ps(qf, _mm512_loadu_ps(xs)), acc[i]);
      };
      for (int n = 0; n < 2; ++n) {
        const uint8_t* ql = blk + 64 * n;
        const uint8_t* qh = blk + 128 + 32 * n;
        const float* xs = x + b * 256 + 128 * n;
        for (int l0 = 0; l0 < 32; l0 += 16) {
          const int is = 8 * n + l0 / 16;
          const __m128i a = load16(ql + l0);
          const __m128i c = load16(ql + 32 + l0);
          const __m128i h = load16(qh + l0);
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
  }
  for (int i = 0; i < R; ++i) y[i] = _mm512_reduce_add_ps(acc[i]);
}

template <int R>
bool dot_rows(const QuantMatrix& w, const uint8_t* row0, const float* x, const float* xsum,
              float* y) {
  const Rows rows{row0, w.row_bytes};
  switch (w.type) {
    case TensorType::Q4_1:
      return dot_q4_1<R>(rows, x, xsum, w.cols / 32, y), true;
    case TensorType::Q5_0:
      return dot_q5_0<R>(rows, x, w.cols / 32, y), true;
    case TensorType::Q8_0:
      return dot_q8_0<R>(rows, x, w.cols / 32, y), true;
    case TensorType::Q4_K:
      return dot_q4_k<R>(rows, x, xsum, w.cols / 256, y), true;
    case TensorType::Q6_K:
      return dot_q6_k<R>(rows, x, w.cols / 256, y), true;
    case TensorType::F32:
      return dot_f32<R>(rows, x, w.cols, y), true;
    default:
      return false;
  }
}

}  // namespace

bool avx512_has_rows4(TensorType t) {
  return t == TensorType::Q4_1 || t == TensorType::Q5_0 || t == TensorType::Q8_0 ||
         t == TensorType::Q4_K || t == TensorType::Q6_K || t == TensorType::F32;
}

void dot4_avx512(const QuantMatrix& w, const uint8_t* row0, const float* x, const float* xsum,
                 float* y) {
  dot_rows<4>(w, row0, x, xsum, y);
}

float dot_avx512(const QuantMatrix& w, const uint8_t* row, const float* x, const float* xsum) {
  float y;
  if (!dot_rows<1>(w, row, x, xsum, &y)) return dot_generic(w, row, x, Isa::Avx2);
  return y;
}

}  // namespace core::model::kernels
