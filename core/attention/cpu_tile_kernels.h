// The three steps of the tiled CPU attention (cpu_prefill.cpp) for one tile of keys and a
// block of query rows, per instruction set: the scores, the online-softmax step and the
// rescale-and-accumulate of P·V. Scores and probabilities are kept transposed, [key][row], so
// the vectors run across query rows and every row's arithmetic is its own lane: a score is one
// fused multiply-add chain over d, a row's sums run over its keys in order, an output element
// is one chain over the keys. AVX-512, AVX2 and the portable path therefore give the same bits.
#pragma once

#include "core/attention/cpu_isa.h"

namespace core::tile {

// Keys a tile holds. Fixed, so every instruction set cuts a row's keys into the same tiles.
constexpr int kKeys = 64;
// Query rows are padded to a multiple of this (the widest vector); padded rows are masked.
constexpr int kRowAlign = 16;

// st[j * ld + r] = sum over d < hd of k[j][d] * qt[d * ld + r], for j < n and r < ld.
// qt is the block's queries transposed, [hd, ld] (ld a multiple of kRowAlign); k[j] points at
// key j's hd floats.
void scores(Isa isa, const float* qt, int ld, const float* const* k, int n, int hd, float* st);

// The online-softmax step of a tile for rows r < rows (one lane each): x_j = st[j * ld + r] *
// scale for j < n where valid[j * ld + r] != 0 (valid null: every key visible); m_new =
// max(m[r], x_j); st[j * ld + r] becomes p_j = tile::exp(x_j - m_new), 0 where masked;
// alpha[r] = tile::exp(m[r] - m_new); l[r] = l[r] * alpha[r] + (sum of p_j in key order);
// m[r] = m_new. Rows rows..ld-1 are left alone.
void softmax(Isa isa, float* st, int ld, int rows, int n, float scale, const float* valid, float* m,
             float* l, float* alpha);

// o[r][:] = alpha[r] * o[r][:] + sum over j < n (in order) of pt[j * ld + r] * v[j][:], for
// r < rows; o is [rows, hd] and v[j] points at key j's hd values.
void pv(Isa isa, const float* pt, int ld, int rows, const float* const* v, int n, int hd,
        const float* alpha, float* o);

// A captured row of n raw scaled scores (-inf where the key is not seen) into probabilities:
// row[k] = tile::exp(row[k] - m) * inv_sum, exactly 0 for -inf.
void probabilities(Isa isa, float* row, int n, float m, float inv_sum);

// e^max(x, -87.3) for x <= 88.3: x = k·ln2 + r with k rounded to even, e^r from Cephes expf's
// polynomial in fused multiply-adds, times 2^k. Below -87.3 it returns e^-87.3 (~1.2e-38),
// which is nothing next to a softmax row's largest term, 1. Accuracy: test_cpu_prefill.
float exp(float x);

}  // namespace core::tile
