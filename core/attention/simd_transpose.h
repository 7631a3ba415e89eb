// A 16 x 16 block of floats transposed in AVX-512 registers: four rounds of in-lane
// interleaves and 128-bit lane shuffles (64 shuffles) instead of 256 scalar moves. Shared by
// the GEMM's panel packing (core/model/qgemm.cpp) and the prefill attention's query and
// captured-score layouts (cpu_prefill.cpp). Pure data movement: every path gives the same bits.
#pragma once

#include <immintrin.h>

namespace core::simd {

// The 64-bit halves of each 128-bit lane of a and b, interleaved (unpacklo/hi_pd on floats).
__attribute__((target("avx512f"))) inline __m512 lo64(__m512 a, __m512 b) {
  return _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
}
__attribute__((target("avx512f"))) inline __m512 hi64(__m512 a, __m512 b) {
  return _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
}

// In place: afterwards lane j of r[c] is what lane c of r[j] was.
__attribute__((target("avx512f"))) inline void transpose16x16(__m512 r[16]) {
  __m512 t[16];
  for (int j = 0; j < 16; j += 2) {  // lane L of t[j]: r[j][4L], r[j+1][4L], r[j][4L+1], ...
    t[j] = _mm512_unpacklo_ps(r[j], r[j + 1]);
    t[j + 1] = _mm512_unpackhi_ps(r[j], r[j + 1]);
  }
  for (int q = 0; q < 16; q += 4) {  // lane L of r[q + c]: column 4L + c of rows q .. q+3
    r[q] = lo64(t[q], t[q + 2]);
    r[q + 1] = hi64(t[q], t[q + 2]);
    r[q + 2] = lo64(t[q + 1], t[q + 3]);
    r[q + 3] = hi64(t[q + 1], t[q + 3]);
  }
  for (int c = 0; c < 4; ++c) {  // gather lane L of row groups 0..3 into column 4L + c
    const __m512 ab02 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
    const __m512 ab13 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
    const __m512 cd02 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
    const __m512 cd13 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
    t[c] = _mm512_shuffle_f32x4(ab02, cd02, 0x88);
    t[4 + c] = _mm512_shuffle_f32x4(ab13, cd13, 0x88);
    t[8 + c] = _mm512_shuffle_f32x4(ab02, cd02, 0xdd);
    t[12 + c] = _mm512_shuffle_f32x4(ab13, cd13, 0xdd);
  }
  for (int c = 0; c < 16; ++c) r[c] = t[c];
}

}  // namespace core::simd
