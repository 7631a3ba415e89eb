// Element-wise gated activations of the feed-forward block.
#pragma once

#include <cstddef>

namespace core::model {

// gate[i] = silu(gate[i]) * up[i] for n elements (SwiGLU); silu(g) = g / (1 + e^-g).
void silu_mul(float* gate, const float* up, size_t n);

}  // namespace core::model
