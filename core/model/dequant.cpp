#include "core/model/dequant.h"

#include <cstring>
#include <stdexcept>
#include <string>

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

}  // namespace

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
