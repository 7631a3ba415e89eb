// The steps of the CPU decode attention (cpu_decode.cpp) for one query's rows that share a KV
// head (the g query heads of a GQA group) and one tile of their visible keys, per instruction
// set: the scores and the online-softmax step; P·V is tile::pv. Vectors run along head_dim for
// the scores and along the keys for the softmax. Each result is one fixed order of float32
// operations that AVX-512, AVX2 and the portable path all follow, so they give the same bits:
//   score q·k:  16 lane sums, lane L one fused multiply-add chain over d = L, L+16, ... in
//               order from 0; then the lanes added as a halving tree, (L, L+8), (L, L+4),
//               (L, L+2), (L, L+1).
//   a tile's row sum of probabilities: the same, lane L adding keys j = L, L+16, ... in order.
#pragma once

#include "core/attention/cpu_isa.h"

namespace core::decode {

// Keys a tile holds.
constexpr int kKeys = 64;

// s[r * kKeys + j] = q_r · k_j for rows r < g and keys j < n <= kKeys, in the order above.
// q is [g, hd] (row r at q + r * hd); k[j] points at key j's hd floats.
void scores(Isa isa, const float* q, int g, const float* const* k, int n, int hd, float* s);

// The online-softmax step of rows r < g over a tile of n keys, every one visible:
// x_j = s[r * kKeys + j] * scale (written back to s, the captured scores); m_new = max(m[r],
// x_j); pt[j * g + r] = tile::exp(x_j - m_new) (transposed, as tile::pv reads it);
// alpha[r] = tile::exp(m[r] - m_new); l[r] = l[r] * alpha[r] + (row sum); m[r] = m_new.
void softmax(Isa isa, float* s, int g, int n, float scale, float* pt, float* m, float* l,
             float* alpha);

}  // namespace core::decode
