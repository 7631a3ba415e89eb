// The int8 draft precision of the prefill GEMM (qgemm.h), the way llama.cpp multiplies by
// quantized weights: every 32 consecutive values of a row of x share one scale (max |v| /
// 127) and are rounded to int8 codes; the codes' dot products are exact int32 sums and each
// block adds scale_x * scale_w * sum (+ Q4_1's min * the sum of x's block) to an f32
// accumulator. W's Q4_0, Q4_1, Q5_0 and Q8_0 blocks are already int codes times one scale:
// they go in as they are, so only x is rounded (llama.cpp's Q8_0 x Q8_0, Q4_1 x Q8_1). Other
// types are dequantized panel by panel (as the exact GEMM does) and rounded to int8 blocks
// the same way as x.
//
// AVX-512 VNNI (`vpdpbusd`: 64 multiply-adds an instruction) where the CPU has it, otherwise
// scalar integer code that gives the identical numbers (the int32 sums are exact, the f32
// steps the same fused multiply-adds in the same order), only slower. W's codes are stored
// +128 (vpdpbusd multiplies unsigned by signed bytes: W's 32 columns are the vector, x's row
// the broadcast); x carries -128 * the sum of its codes per block, where each block's dot
// starts, to take the offset back out.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/model/qgemv.h"
#include "core/model/thread_pool.h"

namespace core::model {

// ATTNLAB_DRAFT=emulated (or force_int8_path) caps it; so does current_isa() < Avx512.
enum class Int8Path { Scalar, Avx512Vnni };
Int8Path best_int8_path();
Int8Path current_int8_path();
void force_int8_path(Int8Path p);  // clamped to best_int8_path()
const char* int8_path_name(Int8Path p);

// Whether a product with this many columns can run in int8 (whole 32-element blocks).
bool int8_supported(int cols);

// x[T, cols] as int8 blocks: tiles of 6 rows, codes [cols / 4][6][4]; per block and row the
// scale, -128 * the codes' sum and the f32 sum of the block's values (for Q4_1's offsets),
// [cols / 32][6] per tile; rows past T are 0.
struct Int8X {
  int cols = 0;
  std::vector<int8_t> q;
  std::vector<float> scale;
  std::vector<int32_t> corr;
  std::vector<float> sum;
};
void pack_x_int8(const float* x, int t_count, int cols, Int8X& xp);
// The same in pieces, so the tiles can be split over threads: size_x_int8 once, then
// pack_x_int8_tile for every tile in [0, int8_x_tiles(T)).
int int8_x_tiles(int t_count);
void size_x_int8(int t_count, int cols, Int8X& xp);
void pack_x_int8_tile(const float* x, int t_count, Int8X& xp, int tile);

// W in the kernel's int8 layout, packed once and reused by every product with it (the draft
// session keeps one per matrix): each 32-row panel as codes + 128 [cols / 4][32][4] and, per
// 32-element block and row, the scale and Q4_1's offset: 1.25 bytes a weight (1.125 without
// offsets). size_int8_weights, then pack_int8_panel for every panel (on any threads).
struct Int8Weights {
  int rows = 0, cols = 0;
  bool has_min = false;
  std::vector<uint8_t> q;    // [panels][cols / 4][32][4], codes + 128
  std::vector<float> scale;  // [panels][cols / 32][32]
  std::vector<float> min;    // [panels][cols / 32][32], Q4_1 only
};
// Sizes pw for w; returns its panel count.
int size_int8_weights(const QuantMatrix& w, Int8Weights& pw);
// Fills panel p of pw (rows 32p .. 32p+31 of w).
void pack_int8_panel(const QuantMatrix& w, Int8Weights& pw, int p);

// The Int8Weights of every matrix a draft session multiplies by, packed over the pool on the
// first product with it and kept while the session lives (a live view's draft session serves
// many passes), by the matrix's blocks in the mapping; and the wall time the packing took.
class Int8WeightCache {
 public:
  const Int8Weights& get(const QuantMatrix& w, ThreadPool& pool);
  double setup_ms() const { return setup_ms_; }  // set-up, not a pass's own work

 private:
  std::unordered_map<const uint8_t*, Int8Weights> packed_;
  double setup_ms_ = 0;
};

// The panels [p0, p1) (32 output columns each) of y[T, w.rows] = x · Wᵀ in int8, from pw packed.
void qgemm_panels_int8(const QuantMatrix& w, const Int8Weights& pw, const Int8X& xp, int t_count,
                       float* y, int p0, int p1);

}  // namespace core::model
