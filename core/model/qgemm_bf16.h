// The draft precision of the prefill GEMM (qgemm.h): both operands, the dequantized weight
// panel and the rows of x, are rounded to bfloat16 (round to nearest even, unit roundoff
// 2^-8) and their products summed in f32. A bf16 product is exact in f32, so the only
// differences from the exact pass are the two roundings and the order of the f32 sums.
//
// Two paths give the same numbers up to that order: AVX-512 BF16 (`vdpbf16ps`, two products
// an instruction, on CPUs that have it) and the emulated one, which rounds the operands to
// bf16 values held in f32 and runs qgemm's own f32 kernels. The live views use it for the
// draft pass while a slider moves; dump, ppl, export and the golden tests never do.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/qgemv.h"

namespace core::model {

// How a forward pass does its multi-token products: f32 (the default), or a draft with
// bf16-rounded operands (here) or int8 blocks (qgemm_int8.h).
enum class Precision { Exact, DraftBf16, DraftInt8 };
const char* precision_name(Precision p);  // "exact", "draft (bf16)", "draft (int8)"

// Draft paths, slowest first. ATTNLAB_DRAFT=emulated (or force_draft_path) caps it; a capped
// or absent AVX-512 (current_isa() < Avx512) also means emulated.
enum class DraftPath { Emulated, Avx512Bf16 };
DraftPath best_draft_path();
DraftPath current_draft_path();
void force_draft_path(DraftPath p);  // clamped to best_draft_path()
const char* draft_path_name(DraftPath p);

// f32 → bf16 bits, round to nearest even (NaN stays NaN).
uint16_t to_bf16(float x);
float from_bf16(uint16_t h);
inline float round_bf16(float x) {
  return from_bf16(to_bf16(x));
}

// x[T, cols] rounded to bf16 and packed for the AVX-512 BF16 kernel: tiles of 12 rows, each
// [cols / 2][12][2] (rows past T are 0). cols is even.
void pack_x_bf16(const float* x, int t_count, int cols, std::vector<uint16_t>& xp);

// The panels [p0, p1) of y[T, w.rows] = x · Wᵀ with `vdpbf16ps`; xp from pack_x_bf16. Only
// call when current_draft_path() == Avx512Bf16.
void qgemm_panels_bf16(const QuantMatrix& w, const uint16_t* xp, int t_count, float* y, int p0,
                       int p1);

}  // namespace core::model
