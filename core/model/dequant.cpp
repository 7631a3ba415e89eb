// GCC 12's AVX-512 headers warn about their own _mm512_undefined_*() values.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/model/dequant.h"

#include <immintrin.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "core/attention/cpu_isa.h"

namespace core::model {

float f16_to_f32(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal half: value = man * 2^-24, exact in f32
      float f = static_cast<float>(man) * (1.0f / 16777216.0f);
      std::memcpy(&bits, &f, 4);
      bits |= sign;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_f32(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

namespace {

float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

// Q4_0: d(f16) qs[16]; low nibbles are elements 0..15, high nibbles 16..31, offset 8.
void q4_0(const uint8_t* b, float* y) {
  const float d = half_at(b);
  const uint8_t* qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = (static_cast<int>(qs[j] & 0xf) - 8) * d;
    y[j + 16] = (static_cast<int>(qs[j] >> 4) - 8) * d;
  }
}

// Q4_1: d, m (f16) qs[16]; x = q*d + m.
void q4_1(const uint8_t* b, float* y) {
  const float d = half_at(b), m = half_at(b + 2);
  const uint8_t* qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = (qs[j] & 0xf) * d + m;
    y[j + 16] = (qs[j] >> 4) * d + m;
  }
}

// Q5_0: d(f16) qh[4] qs[16]; bit j of qh is the 5th bit of element j, bit j+16 of element j+16.
void q5_0(const uint8_t* b, float* y) {
  const float d = half_at(b);
  uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  const uint8_t* qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    const int lo = (qs[j] & 0xf) | (((qh >> j) & 1) << 4);
    const int hi = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
    y[j] = (lo - 16) * d;
    y[j + 16] = (hi - 16) * d;
  }
}

void q5_1(const uint8_t* b, float* y) {
  const float d = half_at(b), m = half_at(b + 2);
  uint32_t qh;
  std::memcpy(&qh, b + 4, 4);
  const uint8_t* qs = b + 8;
  for (int j = 0; j < 16; ++j) {
    const int lo = (qs[j] & 0xf) | (((qh >> j) & 1) << 4);
    const int hi = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
    y[j] = lo * d + m;
    y[j + 16] = hi * d + m;
  }
}

// Q8_0: d(f16) qs[32] int8.  Q8_1 carries an extra f16 sum we do not need.
void q8_0(const uint8_t* b, float* y, int header) {
  const float d = half_at(b);
  const int8_t* qs = reinterpret_cast<const int8_t*>(b + header);
  for (int j = 0; j < 32; ++j) y[j] = qs[j] * d;
}

// K-quants pack eight 6-bit (scale, min) pairs into 12 bytes.
void scale_min_k4(int j, const uint8_t* q, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Q4_K: d, dmin (f16) scales[12] qs[128]; 8 sub-blocks of 32, x = d*sc*q - dmin*m.
void q4_k(const uint8_t* b, float* y) {
  const float d = half_at(b), dmin = half_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* q = b + 16;
  for (int is = 0; is < 8; is += 2, q += 32) {
    int sc, m;
    scale_min_k4(is, scales, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(is + 1, scales, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xf) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
  }
}

// Q5_K: d, dmin, scales[12], qh[32], qs[128]; like Q4_K with a 5th bit from qh.
void q5_k(const uint8_t* b, float* y) {
  const float d = half_at(b), dmin = half_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* ql = b + 48;
  uint8_t u1 = 1, u2 = 2;
  for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
    int sc, m;
    scale_min_k4(is, scales, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(is + 1, scales, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xf) + (qh[l] & u1 ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
  }
}

// Q6_K: ql[128] qh[64] scales[16] (int8) d(f16); 16 sub-blocks of 16, offset 32.
void q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = half_at(b + 208);
  for (int n = 0; n < 2; ++n, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * sc[is] * q1;
      y[l + 32] = d * sc[is + 2] * q2;
      y[l + 64] = d * sc[is + 4] * q3;
      y[l + 96] = d * sc[is + 6] * q4;
    }
  }
}

// AVX-512 (F/BW/VL) decoders of the types the prefill GEMM unpacks, each the same
// arithmetic as its scalar twin above: codes widened to int32, converted exactly, then one
// f32 multiply (and add) per element.
#define ATTNLAB_DQ_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))

// Low nibbles of qs[16] (elements 0..15) and high nibbles (16..31).
ATTNLAB_DQ_TARGET inline void nibbles16(const uint8_t* qs, __m128i* lo, __m128i* hi) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  *lo = _mm_and_si128(v, _mm_set1_epi8(0xf));
  *hi = _mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0xf));
}

ATTNLAB_DQ_TARGET inline __m512 widen(__m128i codes, int offset) {
  return _mm512_cvtepi32_ps(
      _mm512_sub_epi32(_mm512_cvtepu8_epi32(codes), _mm512_set1_epi32(offset)));
}

ATTNLAB_DQ_TARGET void q4_0_v(const uint8_t* b, float* y) {
  const __m512 d = _mm512_set1_ps(half_at(b));
  __m128i lo, hi;
  nibbles16(b + 2, &lo, &hi);
  _mm512_storeu_ps(y, _mm512_mul_ps(widen(lo, 8), d));
  _mm512_storeu_ps(y + 16, _mm512_mul_ps(widen(hi, 8), d));
}

ATTNLAB_DQ_TARGET void q4_1_v(const uint8_t* b, float* y) {
  const __m512 d = _mm512_set1_ps(half_at(b)), m = _mm512_set1_ps(half_at(b + 2));
  __m128i lo, hi;
  nibbles16(b + 4, &lo, &hi);
  _mm512_storeu_ps(y, _mm512_add_ps(_mm512_mul_ps(widen(lo, 0), d), m));
  _mm512_storeu_ps(y + 16, _mm512_add_ps(_mm512_mul_ps(widen(hi, 0), d), m));
}

ATTNLAB_DQ_TARGET void q5_0_v(const uint8_t* b, float* y) {
  const __m512 d = _mm512_set1_ps(half_at(b));
  uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  __m128i lo, hi;
  nibbles16(b + 6, &lo, &hi);
  const __m128i bit5 = _mm_set1_epi8(16);  // qh's bit j is element j's 5th bit
  lo = _mm_mask_add_epi8(lo, static_cast<__mmask16>(qh & 0xffff), lo, bit5);
  hi = _mm_mask_add_epi8(hi, static_cast<__mmask16>(qh >> 16), hi, bit5);
  _mm512_storeu_ps(y, _mm512_mul_ps(widen(lo, 16), d));
  _mm512_storeu_ps(y + 16, _mm512_mul_ps(widen(hi, 16), d));
}

ATTNLAB_DQ_TARGET void q8_0_v(const uint8_t* b, float* y) {
  const __m512 d = _mm512_set1_ps(half_at(b));
  for (int h = 0; h < 2; ++h) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2 + 16 * h));
    _mm512_storeu_ps(y + 16 * h, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), d));
  }
}

ATTNLAB_DQ_TARGET void q4_k_v(const uint8_t* b, float* y) {
  const float d = half_at(b), dmin = half_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* q = b + 16;
  for (int is = 0; is < 8; is += 2, q += 32, y += 64) {
    int sc, m;
    scale_min_k4(is, scales, &sc, &m);
    const __m512 d1 = _mm512_set1_ps(d * sc), m1 = _mm512_set1_ps(dmin * m);
    scale_min_k4(is + 1, scales, &sc, &m);
    const __m512 d2 = _mm512_set1_ps(d * sc), m2 = _mm512_set1_ps(dmin * m);
    for (int h = 0; h < 2; ++h) {
      __m128i lo, hi;
      nibbles16(q + 16 * h, &lo, &hi);
      _mm512_storeu_ps(y + 16 * h, _mm512_sub_ps(_mm512_mul_ps(d1, widen(lo, 0)), m1));
      _mm512_storeu_ps(y + 32 + 16 * h, _mm512_sub_ps(_mm512_mul_ps(d2, widen(hi, 0)), m2));
    }
  }
}

// Two bits of each qh byte, at bit `shift`, moved to bits 4-5 (a 6-bit code's high part).
ATTNLAB_DQ_TARGET inline __m128i high2(__m128i qh, int shift) {
  const __m128i two = _mm_and_si128(_mm_srl_epi16(qh, _mm_cvtsi32_si128(shift)), _mm_set1_epi8(3));
  return _mm_slli_epi16(two, 4);
}

ATTNLAB_DQ_TARGET void q6_k_v(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = half_at(b + 208);
  const __m128i low4 = _mm_set1_epi8(0xf);
  for (int n = 0; n < 2; ++n, y += 128, ql += 64, qh += 32, sc += 8)
    for (int l0 = 0; l0 < 32; l0 += 16) {
      const int is = l0 / 16;
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ql + l0));
      const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ql + l0 + 32));
      const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qh + l0));
      const __m128i q1 = _mm_or_si128(_mm_and_si128(a, low4), high2(h, 0));
      const __m128i q2 = _mm_or_si128(_mm_and_si128(c, low4), high2(h, 2));
      const __m128i q3 = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(a, 4), low4), high2(h, 4));
      const __m128i q4 = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(c, 4), low4), high2(h, 6));
      _mm512_storeu_ps(y + l0, _mm512_mul_ps(_mm512_set1_ps(d * sc[is]), widen(q1, 32)));
      _mm512_storeu_ps(y + l0 + 32, _mm512_mul_ps(_mm512_set1_ps(d * sc[is + 2]), widen(q2, 32)));
      _mm512_storeu_ps(y + l0 + 64, _mm512_mul_ps(_mm512_set1_ps(d * sc[is + 4]), widen(q3, 32)));
      _mm512_storeu_ps(y + l0 + 96, _mm512_mul_ps(_mm512_set1_ps(d * sc[is + 6]), widen(q4, 32)));
    }
}

using BlockDecoder = void (*)(const uint8_t* block, float* out);

// The AVX-512 decoder of one block of t; null for the types above do not cover.
BlockDecoder avx512_decoder(TensorType t) {
  switch (t) {
    case TensorType::Q4_0:
      return q4_0_v;
    case TensorType::Q4_1:
      return q4_1_v;
    case TensorType::Q5_0:
      return q5_0_v;
    case TensorType::Q8_0:
      return q8_0_v;
    case TensorType::Q4_K:
      return q4_k_v;
    case TensorType::Q6_K:
      return q6_k_v;
    default:
      return nullptr;
  }
}

}  // namespace

bool has_block_codes(TensorType t) {
  return t == TensorType::Q4_0 || t == TensorType::Q4_1 || t == TensorType::Q5_0 ||
         t == TensorType::Q8_0;
}

// The layouts of q4_0, q4_1, q5_0 and q8_0 above, as codes.
float block_codes(TensorType t, const uint8_t* b, int8_t* q, float* min) {
  *min = 0.0f;
  const float d = half_at(b);
  if (t == TensorType::Q8_0) {
    std::memcpy(q, b + 2, 32);
    return d;
  }
  uint32_t qh = 0;
  const uint8_t* qs = b + 2;
  int offset = 8;
  if (t == TensorType::Q4_1) {
    *min = half_at(b + 2);
    qs = b + 4, offset = 0;
  } else if (t == TensorType::Q5_0) {
    std::memcpy(&qh, b + 2, 4);
    qs = b + 6, offset = 16;
  }
  if (t != TensorType::Q5_0) {  // nibbles: the scalar loop below with qh = 0, 16 at a time
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i low = _mm_set1_epi8(0x0f), off = _mm_set1_epi8(static_cast<char>(offset));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm_sub_epi8(_mm_and_si128(v, low), off));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16),
                     _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), low), off));
    return d;
  }
  for (int j = 0; j < 16; ++j) {
    q[j] = static_cast<int8_t>(((qs[j] & 0xf) | ((qh >> j) & 1) << 4) - offset);
    q[j + 16] = static_cast<int8_t>(((qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4) - offset);
  }
  return d;
}

bool can_dequantize(TensorType t) {
  switch (t) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16:
    case TensorType::Q4_0:
    case TensorType::Q4_1:
    case TensorType::Q5_0:
    case TensorType::Q5_1:
    case TensorType::Q8_0:
    case TensorType::Q8_1:
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
      return true;
    default:
      return false;
  }
}

// The prefill GEMM decodes every weight panel through here; the loader picks the widest
// clone the CPU supports (the block decoders inline into each).
__attribute__((target_clones("avx512f", "avx2", "default"))) void dequantize(TensorType t,
                                                                             const void* src,
                                                                             float* dst,
                                                                             int64_t n) {
  TypeTraits tt;
  if (!can_dequantize(t) || !tensor_type_traits(static_cast<uint32_t>(t), &tt))
    throw std::invalid_argument(std::string("unsupported quant type ") + tensor_type_name(t));
  if (n % tt.block_elems != 0)
    throw std::invalid_argument(std::string("element count is not whole ") + tt.name + " blocks");
  const auto* b = static_cast<const uint8_t*>(src);
  const int64_t nb = n / tt.block_elems;
  switch (t) {
    case TensorType::F32:
      std::memcpy(dst, src, n * 4);
      return;
    case TensorType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = half_at(b + 2 * i);
      return;
    case TensorType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, b + 2 * i, 2);
        dst[i] = bf16_to_f32(h);
      }
      return;
    default:
      break;
  }
  if (const BlockDecoder v = current_isa() == Isa::Avx512 ? avx512_decoder(t) : nullptr) {
    for (int64_t i = 0; i < nb; ++i, b += tt.block_bytes, dst += tt.block_elems) v(b, dst);
    return;
  }
  for (int64_t i = 0; i < nb; ++i, b += tt.block_bytes, dst += tt.block_elems) {
    switch (t) {
      case TensorType::Q4_0:
        q4_0(b, dst);
        break;
      case TensorType::Q4_1:
        q4_1(b, dst);
        break;
      case TensorType::Q5_0:
        q5_0(b, dst);
        break;
      case TensorType::Q5_1:
        q5_1(b, dst);
        break;
      case TensorType::Q8_0:
        q8_0(b, dst, 2);
        break;
      case TensorType::Q8_1:
        q8_0(b, dst, 4);
        break;
      case TensorType::Q4_K:
        q4_k(b, dst);
        break;
      case TensorType::Q5_K:
        q5_k(b, dst);
        break;
      case TensorType::Q6_K:
        q6_k(b, dst);
        break;
      default:
        break;
    }
  }
}

}  // namespace core::model
