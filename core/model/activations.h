// Element-wise gated activations of the feed-forward block.
#pragma once

#include <cstddef>

namespace core::model {

// y[i] = expf(x[i]) for n elements, libm's bits on every kernel path (AVX-512 computes
// expf's steps 16 lanes at a time).
void expf_array(const float* x, float* y, size_t n);

// gate[i] = silu(gate[i]) * up[i] for n elements (SwiGLU); silu(g) = g / (1 + e^-g), with
// expf_array's exp, so the same bits as the scalar formula with libm's expf.
void silu_mul(float* gate, const float* up, size_t n);
// The same with attn::exp_poly (within 1 ulp of expf) in a loop the compiler vectorizes: the
// drafts' SwiGLU, about 5x faster. The exact path keeps libm's expf (activations.cpp says why).
void silu_mul_draft(float* gate, const float* up, size_t n);

// gate[i] = gelu_tanh(gate[i]) * up[i] for n elements (GeGLU, Gemma), where
// gelu_tanh(g) = 0.5 g (1 + tanh(u)), u = sqrt(2/pi) (g + 0.044715 g^3).
void gelu_tanh_mul(float* gate, const float* up, size_t n);

}  // namespace core::model
