// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() and then warn that the value
// is uninitialized where they inline; the warning is about the header, not this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/model/qgemv.h"

#include <immintrin.h>

#include <cstring>

#include "core/model/dequant.h"

namespace core::model {

namespace {

constexpr int kBlock = 32;

// Bytes of one 32-element block (Q4_1: d, m, 16 nibble bytes; Q5_0: d, qh, 16 nibble bytes;
// Q8_0: d, 32 int8).
int block_bytes(TensorType t) {
  switch (t) {
    case TensorType::Q4_1:
      return 20;
    case TensorType::Q5_0:
      return 22;
    case TensorType::Q8_0:
      return 34;
    case TensorType::F32:
      return 4 * kBlock;
    default:
      return 0;
  }
}

// Portable path: decode each block with the same formulas as dequant.cpp, then dot.
float dot_row_scalar(TensorType t, const uint8_t* row, const float* x, int nb) {
  float sum = 0.0f;
  float y[kBlock];
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * block_bytes(t);
    if (t == TensorType::F32) {
      std::memcpy(y, blk, sizeof(y));
    } else {
      dequantize(t, blk, y, kBlock);
    }
    const float* xb = x + b * kBlock;
    for (int j = 0; j < kBlock; ++j) sum += y[j] * xb[j];
  }
  return sum;
}

__attribute__((target("avx2,fma,f16c"))) float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma,f16c"))) float half_avx(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Eight unsigned bytes -> eight floats.
__attribute__((target("avx2,fma,f16c"))) __m256 u8x8(__m128i v) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v));
}

// Q4_1: x = q*d + m, so a block adds d * Σ q_j x_j + m * Σ x_j; Σ x_j comes precomputed.
__attribute__((target("avx2,fma,f16c"))) float dot_q4_1(const uint8_t* row, const float* x,
                                                        const float* xsum, int nb) {
  const __m128i low4 = _mm_set1_epi8(0x0f);
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0.0f;
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * 20;
    const __m128i qs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 4));
    const __m128i lo = _mm_and_si128(qs, low4);                     // elements 0..15
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(qs, 4), low4);  // elements 16..31
    const float* xb = x + b * kBlock;
    __m256 s = _mm256_mul_ps(u8x8(lo), _mm256_loadu_ps(xb));
    s = _mm256_fmadd_ps(u8x8(_mm_srli_si128(lo, 8)), _mm256_loadu_ps(xb + 8), s);
    s = _mm256_fmadd_ps(u8x8(hi), _mm256_loadu_ps(xb + 16), s);
    s = _mm256_fmadd_ps(u8x8(_mm_srli_si128(hi, 8)), _mm256_loadu_ps(xb + 24), s);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_avx(blk)), s, acc);
    offsets += half_avx(blk + 2) * xsum[b];
  }
  return hsum(acc) + offsets;
}

// Q5_0: x = (q - 16) * d with q's fifth bit j in qh bit j.
__attribute__((target("avx2,fma,f16c"))) float dot_q5_0(const uint8_t* row, const float* x,
                                                        int nb) {
  const __m128i low4 = _mm_set1_epi8(0x0f);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i sixteen = _mm256_set1_epi32(16);
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256 acc = _mm256_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * 22;
    uint32_t qh;
    std::memcpy(&qh, blk + 2, 4);
    const __m256i qhv = _mm256_set1_epi32(static_cast<int>(qh));
    const __m128i qs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 6));
    const __m128i nib[2] = {_mm_and_si128(qs, low4), _mm_and_si128(_mm_srli_epi16(qs, 4), low4)};
    const float* xb = x + b * kBlock;
    __m256 s = _mm256_setzero_ps();
    for (int g = 0; g < 4; ++g) {  // elements 8g .. 8g+7
      const __m128i bytes = g % 2 ? _mm_srli_si128(nib[g / 2], 8) : nib[g / 2];
      const __m256i bit = _mm256_and_si256(
          _mm256_srlv_epi32(qhv, _mm256_add_epi32(lanes, _mm256_set1_epi32(8 * g))), one);
      const __m256i q = _mm256_sub_epi32(
          _mm256_or_si256(_mm256_cvtepu8_epi32(bytes), _mm256_slli_epi32(bit, 4)), sixteen);
      s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q), _mm256_loadu_ps(xb + 8 * g), s);
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_avx(blk)), s, acc);
  }
  return hsum(acc);
}

// Q8_0: x = q * d.
__attribute__((target("avx2,fma,f16c"))) float dot_q8_0(const uint8_t* row, const float* x,
                                                        int nb) {
  __m256 acc = _mm256_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * 34;
    const float* xb = x + b * kBlock;
    __m256 s = _mm256_setzero_ps();
    for (int g = 0; g < 4; ++g) {
      const __m128i q8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 2 + 8 * g));
      s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8)), _mm256_loadu_ps(xb + 8 * g),
                          s);
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_avx(blk)), s, acc);
  }
  return hsum(acc);
}

__attribute__((target("avx2,fma,f16c"))) float dot_f32(const float* w, const float* x, int n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  for (int i = 0; i < n; i += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
  }
  return hsum(_mm256_add_ps(a0, a1));
}

// AVX-512 halves the instructions per block: sixteen codes widen to sixteen floats at once.
#define ATTNLAB_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

ATTNLAB_AVX512 float dot_q4_1_512(const uint8_t* row, const float* x, const float* xsum, int nb) {
  const __m128i low4 = _mm_set1_epi8(0x0f);
  __m512 acc = _mm512_setzero_ps();
  float offsets = 0.0f;
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * 20;
    const __m128i qs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 4));
    const __m128i lo = _mm_and_si128(qs, low4);                     // elements 0..15
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(qs, 4), low4);  // elements 16..31
    const float* xb = x + b * kBlock;
    __m512 s = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(lo)), _mm512_loadu_ps(xb));
    s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(hi)), _mm512_loadu_ps(xb + 16), s);
    acc = _mm512_fmadd_ps(_mm512_set1_ps(half_avx(blk)), s, acc);
    offsets += half_avx(blk + 2) * xsum[b];
  }
  return _mm512_reduce_add_ps(acc) + offsets;
}

ATTNLAB_AVX512 float dot_q8_0_512(const uint8_t* row, const float* x, int nb) {
  __m512 acc = _mm512_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = row + static_cast<size_t>(b) * 34;
    const float* xb = x + b * kBlock;
    const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
    const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 18));
    __m512 s = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q0)), _mm512_loadu_ps(xb));
    s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q1)), _mm512_loadu_ps(xb + 16), s);
    acc = _mm512_fmadd_ps(_mm512_set1_ps(half_avx(blk)), s, acc);
  }
  return _mm512_reduce_add_ps(acc);
}

bool have_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                         __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  return ok;
}

bool have_avx2() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                         __builtin_cpu_supports("f16c");
  return ok;
}

}  // namespace

bool qgemv_supported(TensorType t, int cols) {
  return block_bytes(t) > 0 && cols > 0 && cols % kBlock == 0;
}

QuantMatrix quant_matrix(const TensorInfo& t) {
  QuantMatrix m;
  if (t.dims.size() != 2 || !qgemv_supported(t.type, static_cast<int>(t.dims[0]))) return m;
  m.type = t.type;
  m.cols = static_cast<int>(t.dims[0]);
  m.rows = static_cast<int>(t.dims[1]);
  m.row_bytes = static_cast<size_t>(m.cols / kBlock) * block_bytes(t.type);
  m.data = t.data;
  return m;
}

void qgemv_prepare(const QuantMatrix& w, const float* x, float* xsum) {
  if (w.type != TensorType::Q4_1) return;
  for (int b = 0; b < w.cols / kBlock; ++b) {
    float s = 0.0f;
    for (int j = 0; j < kBlock; ++j) s += x[b * kBlock + j];
    xsum[b] = s;
  }
}

void qgemv_rows(const QuantMatrix& w, const float* x, const float* xsum, float* y, int r0, int r1) {
  const int nb = w.cols / kBlock;
  const bool fast = have_avx2();
  const bool wide = have_avx512();
  for (int r = r0; r < r1; ++r) {
    const uint8_t* row = w.data + static_cast<size_t>(r) * w.row_bytes;
    if (!fast) {
      y[r] = dot_row_scalar(w.type, row, x, nb);
      continue;
    }
    switch (w.type) {
      case TensorType::Q4_1:
        y[r] = wide ? dot_q4_1_512(row, x, xsum, nb) : dot_q4_1(row, x, xsum, nb);
        break;
      case TensorType::Q5_0:
        y[r] = dot_q5_0(row, x, nb);
        break;
      case TensorType::Q8_0:
        y[r] = wide ? dot_q8_0_512(row, x, nb) : dot_q8_0(row, x, nb);
        break;
      default:
        y[r] = dot_f32(reinterpret_cast<const float*>(row), x, w.cols);
        break;
    }
  }
}

}  // namespace core::model
