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

// Decodes `n` elements starting at the block at `src` into `dst`. Throws std::invalid_argument
// for unsupported types or an `n` that is not a whole number of blocks.
void dequantize(TensorType t, const void* src, float* dst, int64_t n);

}  // namespace core::model
