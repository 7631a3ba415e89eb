// expf for array loops the compiler can vectorize (libm's expf is a call per element): range
// reduction x = n·ln2 + r, a degree-6 polynomial for e^r (Cephes expf coefficients), and 2^n
// built in the exponent bits. Within 1 ulp of expf over [-87, 88.3] (checked in steps of 1e-4);
// below -87.3 the result is 0, above 88.3 it saturates at e^88.3.
#pragma once

#include <bit>
#include <cstdint>

namespace attn {

inline float exp_poly(float x) {
  x = x > 88.3f ? 88.3f : x;
  const bool tiny = x < -87.3f;
  x = tiny ? -87.3f : x;
  // Round x·log2(e) to the nearest integer n (adding 1.5·2^23 leaves n in the low bits).
  const float shifter = 12582912.0f;
  const float t = x * 1.44269504088896341f + shifter;
  const float n = t - shifter;
  // r = x - n·ln2, with ln2 split in two so the product stays exact.
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r2 + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return tiny ? 0.0f : e * std::bit_cast<float>(bits);
}

}  // namespace attn
