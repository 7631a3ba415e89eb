// Matrix-vector products straight from a GGUF tensor's quantized blocks, for decoding one
// token: a step reads every weight once, so reading 4.5-8.5 bits instead of 32 per weight is
// what makes it fast. The values are the ones dequantize() gives (the same f16 scales and
// integer codes), only the order of the f32 sums differs from the dequantized sgemv.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/model/gguf.h"

namespace core::model {

// A row-major [rows, cols] weight as stored in the file (ggml dims {cols, rows}).
struct QuantMatrix {
  TensorType type = TensorType::F32;
  const uint8_t* data = nullptr;  // rows * row_bytes bytes, mapped from the file
  int rows = 0;
  int cols = 0;
  size_t row_bytes = 0;
};

// Types with a direct kernel (Q4_1, Q5_0, Q8_0, F32); cols must be a multiple of 32.
bool qgemv_supported(TensorType t, int cols);

// The matrix of tensor `t`, or a null QuantMatrix (data == nullptr) when unsupported.
QuantMatrix quant_matrix(const TensorInfo& t);

// Per-call scratch for x: block sums, needed by types with an offset (Q4_1). [cols / 32]
void qgemv_prepare(const QuantMatrix& w, const float* x, float* xsum);

// y[r] = W[r, :] · x for r in [r0, r1). xsum from qgemv_prepare.
void qgemv_rows(const QuantMatrix& w, const float* x, const float* xsum, float* y, int r0, int r1);

}  // namespace core::model
