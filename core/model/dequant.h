// Dequantization of ggml tensor blocks to f32. Layouts follow ggml-common.h; each decoder
// takes whole blocks (n must be a multiple of the type's block_elems).
#pragma once

#include <cstdint>

#include "core/model/gguf.h"

namespace core::model {

float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t h);

// True for the types dequantize() handles.
bool can_dequantize(TensorType t);

// Whether a type's 32-element blocks are int codes times one f16 scale, plus one offset for
// Q4_1: Q4_0, Q4_1, Q5_0 and Q8_0.
bool has_block_codes(TensorType t);

// One such block: its codes q[32] (Q4_0 and Q5_0 already less 8 and 16; Q4_1's 0..15) and
// its scale; *min is Q4_1's offset (else 0), so element i = scale * q[i] + *min.
float block_codes(TensorType t, const uint8_t* block, int8_t* q, float* min);

// Decodes `n` elements starting at the block at `src` into `dst`. Throws std::invalid_argument
// for unsupported types or an `n` that is not a whole number of blocks.
void dequantize(TensorType t, const void* src, float* dst, int64_t n);

}  // namespace core::model
