// Matrix products for prefill chunks straight from the quantized weights, the way llamafile's
// tinyBLAS does it: W is dequantized 32 rows at a time into a packed panel [cols][32] that
// stays in the calling core's cache, and a register-blocked kernel multiplies the panel with
// up to 12 rows of x at once (24 AVX-512 accumulators). No f32 copy of any weight is kept.
// Each output is one f32 sum over k in order, so the result does not depend on T, on the
// thread count or on how the panels were split.
#pragma once

#include <vector>

#include "core/model/qgemv.h"
#include "core/model/thread_pool.h"

namespace core::model {

// y[T, w.rows] = x[T, w.cols] · Wᵀ; panels are split over the pool.
void qgemm(const QuantMatrix& w, const float* x, int t_count, float* y, ThreadPool& pool);

// Rows of x a kernel call covers: x is packed in tiles of this many rows.
constexpr int kPackRows = 12;

// Row r of W, columns [k0, k0 + kb), dequantized into row[kb]; a row past the end gives 0s.
// k0 and kb are multiples of the block size. Every panel packer (f32, bf16, int8) reads W so.
void dequantize_row_slice(const QuantMatrix& w, int r, int k0, int kb, float* row);

// Panels a task of a multi-token product takes, for n_panels panels over `threads` threads.
int panel_group(int n_panels, int threads);

// x rearranged for the kernel: tiles of 12 rows, each [cols][12] (rows past T are 0).
// `bf16` rounds the values to bfloat16 (the emulated draft path of qgemm_bf16.h).
void pack_x(const float* x, int t_count, int cols, std::vector<float>& xp, bool bf16 = false);

// The same in parts, so the pool can share it: x_tiles(T) tiles; pack_x_tile writes tile i
// of xp (sized x_tiles(T) * kPackRows * cols floats).
int x_tiles(int t_count);
void pack_x_tile(const float* x, int t_count, int cols, float* xp, int tile, bool bf16 = false);

// qgemm for the panels [p0, p1) only (32 output columns a panel), in the calling thread,
// from x packed by pack_x; a range of panels shares each slice of x (its loop nest is in
// qgemm.cpp). `bf16` rounds the dequantized weights to bfloat16 (the emulated draft path; x must
// then be packed with bf16 too).
void qgemm_panels(const QuantMatrix& w, const float* xp, int t_count, float* y, int p0, int p1,
                  bool bf16 = false);

}  // namespace core::model
