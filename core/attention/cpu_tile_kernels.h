// The two products of the tiled CPU attention (cpu_prefill.cpp), per instruction set: scores of
// a block of query rows against one tile of keys, and the rescale-and-accumulate of P·V. Every
// output is one fused multiply-add chain in a fixed order (over d for a score, over the tile's
// keys for an output element), so AVX-512, AVX2 and the portable path give the same bits.
#pragma once

#include "core/attention/cpu_isa.h"

namespace core::tile {

// Keys a tile holds. Fixed, so every instruction set cuts a row's keys into the same tiles.
constexpr int kKeys = 64;

// s[r * kKeys + j] = sum over d < hd of q[r][d] * kt[d * kKeys + j], for r < rows and j < kKeys.
// q[r] points at query row r (hd floats); kt is the tile's keys transposed, [hd, kKeys].
void scores(Isa isa, const float* const* q, int rows, const float* kt, int hd, float* s);

// o[r][:] = alpha[r] * o[r][:] + sum over j < n of p[r * kKeys + j] * v[j * hd + :], for r < rows;
// o is [rows, hd], v the tile's values [n, hd].
void pv(Isa isa, const float* p, int rows, const float* v, int n, int hd, const float* alpha,
        float* o);

// The online-softmax step of a tile, row by row for r < rows: x_j = s[r * kKeys + j] * scale
// for j < n where valid[(r / valid_group) * kKeys + j] != 0 (valid null: every key visible);
// m_new = max(m[r], x_j); s[r * kKeys + j] becomes p_j = e^(x_j - m_new) (0 where masked and
// for j >= n); l[r] = l[r] * alpha[r] + sum_j p_j, with alpha[r] = e^(m[r] - m_new); m[r] =
// m_new. The sum runs in 16 lanes (lane j % 16, in key order) added up lane 0 first, and e^x
// is tile::exp below, so every instruction set gives the same bits.
void softmax(Isa isa, float* s, int rows, int n, float scale, const float* valid, int valid_group,
             float* m, float* l, float* alpha);

// e^max(x, -87.3): range reduction x = k·ln2 + r with k rounded to even, a degree-7 polynomial
// for e^r (Cephes expf) in fused multiply-adds, times 2^k. Within 2 ulp of expf over
// [-87.3, 88.3]; below -87.3 it returns e^-87.3 (~1.2e-38), which is nothing next to a
// softmax row's largest term, 1.
float exp(float x);

// The widest instruction set at most `isa` whose vectors tile head_dim (AVX-512 needs hd % 16
// == 0, AVX2 hd % 8 == 0); the bits do not depend on the choice, only the speed.
Isa isa_for(Isa isa, int hd);

}  // namespace core::tile
