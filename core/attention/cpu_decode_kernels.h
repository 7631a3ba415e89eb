// The steps of the CPU decode attention (cpu_decode.cpp) for one query's rows that share a KV
// head (the g query heads of a GQA group) and one tile of their visible keys, per instruction
// set: the scores, the online-softmax step and P·V. Vectors run along head_dim for the scores
// and P·V and along the keys for the softmax. Each result is one fixed order of float32
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

// s[r * kKeys + j] = (q_r · k_j) * scale for rows r < g and keys j < n <= kKeys, the dot in
// the order above. q is [g, hd] (row r at q + r * hd); k[j] points at key j's hd floats.
void scores(Isa isa, const float* q, int g, const float* const* k, int n, int hd, float scale,
            float* s);

// The online-softmax step of rows r < g over a tile of n keys, every one visible, their scaled
// scores x_j = s[r * kKeys + j]: m_new = max(m[r], x_j); s[r * kKeys + j] becomes
// p_j = tile::exp(x_j - m_new); alpha[r] = tile::exp(m[r] - m_new); l[r] = l[r] * alpha[r] +
// (row sum of p, in the order above); m[r] = m_new.
void softmax(Isa isa, float* s, int g, int n, float* m, float* l, float* alpha);

// o[r][:] = alpha[r] * o[r][:] + sum over j < n (in order) of p[r * kKeys + j] * v[j][:], for
// r < g: one fused multiply-add chain per output element, as tile::pv. o is [g, hd].
void pv(Isa isa, const float* p, int g, const float* const* v, int n, int hd, const float* alpha,
        float* o);

}  // namespace core::decode
