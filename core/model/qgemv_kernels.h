// The per-ISA row dot products behind qgemv_rows (internal to core/model). Each takes one
// row's blocks and x [cols]; xsum holds the sums of each 32 elements of x (Q4_1, Q4_K).
#pragma once

#include <cstdint>

#include "core/model/qgemv.h"

namespace core::model::kernels {

// AVX2 + FMA + F16C (qgemv.cpp).
float dot_avx2(const QuantMatrix& w, const uint8_t* row, const float* x, const float* xsum);
// AVX-512 F/BW/VL/DQ (qgemv_avx512.cpp).
float dot_avx512(const QuantMatrix& w, const uint8_t* row, const float* x, const float* xsum);
// Four consecutive rows from row0 (stride w.row_bytes) into y[0..3], for the types where
// avx512_has_rows4 holds.
bool avx512_has_rows4(TensorType t);
void dot4_avx512(const QuantMatrix& w, const uint8_t* row0, const float* x, const float* xsum,
                 float* y);
// Any type, any ISA: dequantize one chunk into f32 and dot it (qgemv.cpp).
float dot_generic(const QuantMatrix& w, const uint8_t* row, const float* x, Isa isa);

}  // namespace core::model::kernels
