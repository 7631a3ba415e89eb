// Matrix-vector products straight from a GGUF tensor's quantized blocks, for decoding one
// token: a step reads every weight once, so reading 4.5-8.5 bits instead of 32 per weight is
// what makes it fast. The values are the ones dequantize() gives (the same f16 scales and
// integer codes), accumulated in f32; only the order of the sums differs from a dequantized
// sgemv. The instruction set is picked at run time (AVX-512, AVX2+FMA, or portable C++).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/attention/cpu_isa.h"
#include "core/model/gguf.h"

namespace core::model {

// A row-major [rows, cols] weight as stored in the file (ggml dims {cols, rows}), or an f32
// matrix in memory (type F32).
struct QuantMatrix {
  TensorType type = TensorType::F32;
  const uint8_t* data = nullptr;  // rows * row_bytes bytes, mapped from the file
  int rows = 0;
  int cols = 0;
  size_t row_bytes = 0;
  int block_elems = 1;  // elements per quant block (32 or 256; 1 for F32)
};

// Kernel paths (core/attention/cpu_isa.h, shared with the tiled attention).
using core::best_isa;
using core::current_isa;
using core::force_isa;
using core::Isa;
using core::isa_name;

// Any type dequantize() handles whose blocks tile a row of `cols` elements.
bool qgemv_supported(TensorType t, int cols);

// The matrix of tensor `t`, or a null QuantMatrix (data == nullptr) when unsupported.
QuantMatrix quant_matrix(const TensorInfo& t);
// An f32 matrix in memory, e.g. pooled K/V heads. [rows, cols]
QuantMatrix f32_matrix(const float* w, int rows, int cols);

// Row r as f32. [cols]
void dequantize_row(const QuantMatrix& w, int r, float* out);

// Per-call scratch for x: sums of each 32 elements, needed by types with an offset (Q4_1,
// Q4_K). [cols / 32]
bool qgemv_needs_xsum(TensorType t);
void qgemv_prepare(const QuantMatrix& w, const float* x, float* xsum);

// y[r] = W[r, :] · x for r in [r0, r1). xsum from qgemv_prepare.
void qgemv_rows(const QuantMatrix& w, const float* x, const float* xsum, float* y, int r0, int r1);

}  // namespace core::model
