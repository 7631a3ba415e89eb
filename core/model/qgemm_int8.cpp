#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/model/qgemm_int8.h"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/model/dequant.h"
#include "core/model/draft_path.h"
#include "core/model/qgemm.h"

namespace core::model {

namespace {

constexpr int kPanel = 32;   // output columns a panel holds, as in qgemm.cpp
constexpr int kRows = 6;     // rows of x a kernel call covers (6 x 2 int + 6 x 2 f32 sums)
constexpr int kDepth = 256;  // k per packed slice: 8 KB of int8 panel
constexpr int kBlk = 32;     // elements that share one int8 scale (x and W alike)

typedef int32_t __attribute__((may_alias)) quad32;  // four int8 codes read as one lane

bool cpu_has_avx512_vnni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  // CPUID leaf 7, sub-leaf 0: ECX bit 11 is AVX512_VNNI.
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return (c >> 11) & 1u;
}

DraftPathSlot<Int8Path>& path_slot() {
  static DraftPathSlot<Int8Path> s(cpu_has_avx512_vnni());
  return s;
}

// Symmetric int8 codes of v[0..32): scale max|v| / 127 (0 for an all-zero block); halves
// round away from zero. The AVX-512 version below does the same float operations.
float quantize_block_scalar(const float* v, int8_t* q) {
  float amax = 0;
  for (int i = 0; i < kBlk; ++i) amax = std::max(amax, std::fabs(v[i]));
  const float inv = amax > 0 ? 127.0f / amax : 0.0f;
  for (int i = 0; i < kBlk; ++i) {
    const float a = v[i] * inv;
    q[i] = static_cast<int8_t>(static_cast<int32_t>(a + std::copysign(0.5f, a)));
  }
  return amax / 127.0f;
}

// The codes of v[0..32) as two 16-byte halves; returns the scale (quantize_block_scalar's
// float operations, 16 lanes at a time).
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline float quantize_halves_avx512(
    const float* v, __m128i* lo, __m128i* hi) {
  const __m512 a0 = _mm512_loadu_ps(v), a1 = _mm512_loadu_ps(v + 16);
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a0), _mm512_abs_ps(a1)));
  const __m512 inv = _mm512_set1_ps(amax > 0 ? 127.0f / amax : 0.0f);
  const __m512 half = _mm512_set1_ps(0.5f);
  const __m512i sign = _mm512_set1_epi32(static_cast<int32_t>(0x80000000u));
  for (int h = 0; h < 2; ++h) {
    const __m512 a = _mm512_mul_ps(h == 0 ? a0 : a1, inv);
    // copysign(0.5, a): 0.5 with a's sign bit.
    const __m512 r = _mm512_castsi512_ps(
        _mm512_or_si512(_mm512_castps_si512(half), _mm512_and_si512(_mm512_castps_si512(a), sign)));
    const __m512i t = _mm512_cvttps_epi32(_mm512_add_ps(a, r));
    *(h == 0 ? lo : hi) = _mm512_cvtepi32_epi8(t);
  }
  return amax / 127.0f;
}

__attribute__((target("avx512f,avx512bw,avx512vl"))) float quantize_block_avx512(const float* v,
                                                                                 int8_t* q) {
  __m128i lo, hi;
  const float scale = quantize_halves_avx512(v, &lo, &hi);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(q), lo);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16), hi);
  return scale;
}

float quantize_block(const float* v, int8_t* q) {
  return current_isa() == Isa::Avx512 ? quantize_block_avx512(v, q) : quantize_block_scalar(v, q);
}

// x's block v[0..32) as stored for the kernel: quantize_block's codes, -128 * their sum (what
// W's +128 offset adds to the dot) and the f32 sum of the values (for Q4_1's offsets).
// Returns the scale.
float quantize_x_block_scalar(const float* v, uint32_t* codes, int32_t* corr, float* sum) {
  int8_t q[kBlk];
  const float scale = quantize_block_scalar(v, q);
  int32_t n = 0;
  for (int i = 0; i < kBlk; ++i) n += q[i];
  *corr = -128 * n;
  std::memcpy(codes, q, kBlk);
  // The sum as a tree, the AVX-512 version's order: lanes i and i + 16, then i and i + 8, ...
  float t[16];
  for (int i = 0; i < 16; ++i) t[i] = v[i] + v[i + 16];
  for (int w = 8; w >= 1; w /= 2)
    for (int i = 0; i < w; ++i) t[i] = t[i] + t[i + w];
  *sum = t[0];
  return scale;
}

__attribute__((target("avx512f,avx512bw,avx512vl"))) float quantize_x_block_avx512(const float* v,
                                                                                   uint32_t* codes,
                                                                                   int32_t* corr,
                                                                                   float* sum) {
  __m128i lo, hi;
  const float scale = quantize_halves_avx512(v, &lo, &hi);
  const __m256i c = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes), c);
  // The codes' sum: each 8-byte group's sum of signed bytes (|sum| <= 1016), then the groups'.
  const __m256i g = _mm256_sad_epu8(_mm256_xor_si256(c, _mm256_set1_epi8(static_cast<char>(0x80))),
                                    _mm256_setzero_si256());
  const __m128i g2 = _mm_add_epi64(_mm256_castsi256_si128(g), _mm256_extracti128_si256(g, 1));
  const int64_t biased = _mm_cvtsi128_si64(g2) + _mm_extract_epi64(g2, 1);  // sum + 128 * 32
  *corr = -128 * static_cast<int32_t>(biased - 128 * kBlk);
  // The scalar version's tree: lanes i and i + 16, then i and i + 8, i + 4, i + 2, i + 1.
  const __m512 s16 = _mm512_add_ps(_mm512_loadu_ps(v), _mm512_loadu_ps(v + 16));
  const __m256 s8 =
      _mm256_add_ps(_mm512_castps512_ps256(s16),
                    _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s16), 1)));
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  *sum = _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
  return scale;
}

float quantize_x_block(const float* v, uint32_t* codes, int32_t* corr, float* sum) {
  return current_isa() == Isa::Avx512 ? quantize_x_block_avx512(v, codes, corr, sum)
                                      : quantize_x_block_scalar(v, codes, corr, sum);
}

// One panel of W[r0 .. r0+31, 0 .. cols) in Int8Weights: codes + 128 [cols / 4][32][4] and,
// per 32-element block and column, the scale and the block's offset (Q4_1's min; null for the
// others): w = scale * code + min. The slice at k0 starts k0 * 32 codes and k0 block entries in.
template <typename U, typename F>
struct PanelOf {
  U* q;
  F* scale;
  F* min;  // null unless Q4_1
  PanelOf at(int k0) const {
    const int b = k0 / kBlk * kPanel;
    return {q + static_cast<size_t>(k0) * kPanel, scale + b, min ? min + b : nullptr};
  }
};
using Int8Panel = PanelOf<const uint8_t, const float>;  // what the kernels read
using Int8PanelOut = PanelOf<uint8_t, float>;           // what the packer writes

template <typename Panel, typename Weights>
Panel panel_of(Weights& pw, int p) {
  const size_t codes = static_cast<size_t>(pw.cols) * kPanel, blocks = codes / kBlk;
  return {pw.q.data() + p * codes, pw.scale.data() + p * blocks,
          pw.has_min ? pw.min.data() + p * blocks : nullptr};
}

void pack_panel_int8(const QuantMatrix& w, int r0, const Int8PanelOut& p, std::vector<float>& row) {
  const int nb = w.cols / kBlk;
  // W's own codes where its 32-element blocks are int codes times one scale (block_codes):
  // only x is rounded then, as in llama.cpp's Q8_0 x Q8_0 and Q4_1 x Q8_1 products.
  const bool exact = has_block_codes(w.type) && w.block_elems == kBlk;
  const size_t block_bytes = exact ? w.row_bytes / nb : 0;
  row.resize(w.cols);
  int8_t codes[kBlk];
  float min = 0.0f;
  for (int j = 0; j < kPanel; ++j) {
    if (!exact) dequantize_row_slice(w, r0 + j, 0, w.cols, row.data());
    for (int b = 0; b < nb; ++b) {
      const size_t at = static_cast<size_t>(b) * kPanel + j;
      if (!exact) {
        p.scale[at] = quantize_block(row.data() + b * kBlk, codes);
      } else if (r0 + j < w.rows) {
        const uint8_t* blk = w.data + static_cast<size_t>(r0 + j) * w.row_bytes +
                             static_cast<size_t>(b) * block_bytes;
        p.scale[at] = block_codes(w.type, blk, codes, &min);
        if (w.type == TensorType::Q4_1) {
          // Codes 0..15 centred to -8..7 (d q + m = d (q - 8) + (m + 8 d)): the error x's
          // rounding brings is the sum of its errors times the codes, so centred codes halve it.
          for (int8_t& q : codes) q = static_cast<int8_t>(q - 8);
          p.min[at] = min + 8.0f * p.scale[at];
        }
      } else {  // a row past the end: 0
        p.scale[at] = 0.0f;
        if (p.min) p.min[at] = 0.0f;
        std::fill(codes, codes + kBlk, int8_t{0});
      }
      uint8_t shifted[kBlk];  // + 128: vpdpbusd's unsigned operand
      for (int i = 0; i < kBlk; ++i) shifted[i] = static_cast<uint8_t>(codes[i] + 128);
      // Codes k .. k+3 of column j are one 4-byte lane of the panel ([cols / 4][32][4]).
      for (int i = 0; i < kBlk / 4; ++i)
        std::memcpy(p.q + (static_cast<size_t>(b) * kBlk / 4 + i) * 4 * kPanel + j * 4,
                    shifted + 4 * i, 4);
    }
  }
}

// One slice of a tile of x (Int8X): codes [kb / 4][6][4] and, per block and row, the scale,
// -128 * the codes' sum and the f32 sum of the values ([kb / 32][6] each).
struct XSlice {
  const int8_t* q;
  const float* scale;
  const int32_t* corr;
  const float* sum;
};

// out[t, 0..31] = (add ? sums[t, 0..31] : 0) + the sum over blocks of scale_x * scale_w *
// (int32 dot of the codes) (+ min * x's block sum), t < R; sums are [R][32], out's rows ldo
// apart. Each block's dot starts at x's -128 * sum (W's codes come +128) and adds 8 vpdpbusd of
// W's unsigned 4-byte lanes by a broadcast lane of x.
template <int R>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void tile_vnni(const XSlice& x,
                                                                      const Int8Panel& p, int nb,
                                                                      const float* sums, bool add,
                                                                      float* out, int ldo) {
  __m512 acc[R][2];
#pragma GCC unroll 8
  for (int t = 0; t < R; ++t) {
    const float* ct = sums + static_cast<size_t>(t) * kPanel;
    acc[t][0] = add ? _mm512_loadu_ps(ct) : _mm512_setzero_ps();
    acc[t][1] = add ? _mm512_loadu_ps(ct + 16) : _mm512_setzero_ps();
  }
  for (int b = 0; b < nb; ++b) {
    __m512i s[R][2];
#pragma GCC unroll 8
    for (int t = 0; t < R; ++t) s[t][0] = s[t][1] = _mm512_set1_epi32(x.corr[b * kRows + t]);
#pragma GCC unroll 8
    for (int kq = 0; kq < kBlk / 4; ++kq) {
      const uint8_t* wq = p.q + static_cast<size_t>(b * kBlk / 4 + kq) * 4 * kPanel;
      const __m512i w0 = _mm512_loadu_si512(wq);
      const __m512i w1 = _mm512_loadu_si512(wq + 64);
      const quad32* xr = reinterpret_cast<const quad32*>(x.q) + (b * kBlk / 4 + kq) * kRows;
#pragma GCC unroll 8
      for (int t = 0; t < R; ++t) {
        const __m512i bx = _mm512_set1_epi32(xr[t]);
        s[t][0] = _mm512_dpbusd_epi32(s[t][0], w0, bx);
        s[t][1] = _mm512_dpbusd_epi32(s[t][1], w1, bx);
      }
    }
    const __m512 ws0 = _mm512_loadu_ps(p.scale + b * kPanel);
    const __m512 ws1 = _mm512_loadu_ps(p.scale + b * kPanel + 16);
#pragma GCC unroll 8
    for (int t = 0; t < R; ++t) {
      const __m512 sx = _mm512_set1_ps(x.scale[b * kRows + t]);
      acc[t][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t][0]), _mm512_mul_ps(ws0, sx), acc[t][0]);
      acc[t][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t][1]), _mm512_mul_ps(ws1, sx), acc[t][1]);
    }
    if (p.min) {  // + min * (the sum of x's block), per column
      const __m512 m0 = _mm512_loadu_ps(p.min + b * kPanel);
      const __m512 m1 = _mm512_loadu_ps(p.min + b * kPanel + 16);
#pragma GCC unroll 8
      for (int t = 0; t < R; ++t) {
        const __m512 sum = _mm512_set1_ps(x.sum[b * kRows + t]);
        acc[t][0] = _mm512_fmadd_ps(m0, sum, acc[t][0]);
        acc[t][1] = _mm512_fmadd_ps(m1, sum, acc[t][1]);
      }
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < R; ++t) {
    _mm512_storeu_ps(out + static_cast<size_t>(t) * ldo, acc[t][0]);
    _mm512_storeu_ps(out + static_cast<size_t>(t) * ldo + 16, acc[t][1]);
  }
}

// The same sums in the same order with scalar integer arithmetic: the int32 dots are exact and
// each f32 step is the same single-rounding fma, so the numbers are identical.
void tile_scalar(const XSlice& x, const Int8Panel& p, int nb, const float* sums, bool add,
                 float* out, int ldo, int rows) {
  for (int t = 0; t < rows; ++t)
    for (int j = 0; j < kPanel; ++j) {
      float acc = add ? sums[static_cast<size_t>(t) * kPanel + j] : 0.0f;
      for (int b = 0; b < nb; ++b) {
        int32_t s = x.corr[b * kRows + t];
        for (int i = 0; i < kBlk; ++i) {
          const int k = b * kBlk + i;
          s += static_cast<int32_t>(x.q[static_cast<size_t>(k / 4) * 4 * kRows + t * 4 + k % 4]) *
               p.q[static_cast<size_t>(k / 4) * 4 * kPanel + j * 4 + k % 4];
        }
        const float scale = p.scale[static_cast<size_t>(b) * kPanel + j] * x.scale[b * kRows + t];
        acc = std::fma(static_cast<float>(s), scale, acc);
        if (p.min)
          acc = std::fma(p.min[static_cast<size_t>(b) * kPanel + j], x.sum[b * kRows + t], acc);
      }
      out[static_cast<size_t>(t) * ldo + j] = acc;
    }
}

template <int R>
void vnni_rows(const XSlice& x, const Int8Panel& p, int nb, const float* sums, bool add, float* out,
               int ldo, int rows) {
  if constexpr (R > 1) {
    if (rows < R) return vnni_rows<R - 1>(x, p, nb, sums, add, out, ldo, rows);
  }
  tile_vnni<R>(x, p, nb, sums, add, out, ldo);
}

}  // namespace

Int8Path best_int8_path() {
  return path_slot().best();
}
Int8Path current_int8_path() {
  return path_slot().current();
}
void force_int8_path(Int8Path p) {
  path_slot().force(p);
}
const char* int8_path_name(Int8Path p) {
  return p == Int8Path::Avx512Vnni ? "avx512-vnni" : "scalar";
}

bool int8_supported(int cols) {
  return cols > 0 && cols % kBlk == 0;
}

int int8_x_tiles(int t_count) {
  return (t_count + kRows - 1) / kRows;
}

void size_x_int8(int t_count, int cols, Int8X& xp) {
  xp.cols = cols;
  xp.q.resize(static_cast<size_t>(int8_x_tiles(t_count)) * kRows * cols);
  xp.scale.resize(static_cast<size_t>(int8_x_tiles(t_count)) * kRows * (cols / kBlk));
  xp.corr.resize(xp.scale.size());
  xp.sum.resize(xp.scale.size());
}

void pack_x_int8_tile(const float* x, int t_count, Int8X& xp, int tile) {
  const int cols = xp.cols, nb = cols / kBlk;
  int8_t* dst = xp.q.data() + static_cast<size_t>(tile) * kRows * cols;
  const size_t tile_at = static_cast<size_t>(tile) * kRows * nb;
  for (int b = 0; b < nb; ++b) {
    // The tile's 6 rows of block b: 8 lanes of 4 codes each, lane-major ([8][6][4]).
    uint32_t lanes[kRows][kBlk / 4];
    for (int r = 0; r < kRows; ++r) {
      const int t = tile * kRows + r;
      const size_t at = tile_at + b * kRows + r;
      if (t < t_count) {
        xp.scale[at] = quantize_x_block(x + static_cast<size_t>(t) * cols + b * kBlk, lanes[r],
                                        &xp.corr[at], &xp.sum[at]);
      } else {  // rows past T: codes 0, scale 0
        std::fill(lanes[r], lanes[r] + kBlk / 4, 0u);
        xp.scale[at] = xp.sum[at] = 0.0f;
        xp.corr[at] = 0;
      }
    }
    quad32* out = reinterpret_cast<quad32*>(dst + static_cast<size_t>(b) * kBlk * kRows);
    for (int i = 0; i < kBlk / 4; ++i)
      for (int r = 0; r < kRows; ++r) out[i * kRows + r] = static_cast<int32_t>(lanes[r][i]);
  }
}

void pack_x_int8(const float* x, int t_count, int cols, Int8X& xp) {
  size_x_int8(t_count, cols, xp);
  for (int i = 0; i < int8_x_tiles(t_count); ++i) pack_x_int8_tile(x, t_count, xp, i);
}

int size_int8_weights(const QuantMatrix& w, Int8Weights& pw) {
  const size_t panels = (w.rows + kPanel - 1) / kPanel;
  const size_t blocks = panels * kPanel * (w.cols / kBlk);
  pw.rows = w.rows;
  pw.cols = w.cols;
  pw.has_min = w.type == TensorType::Q4_1;
  pw.q.resize(panels * kPanel * w.cols);
  pw.scale.resize(blocks);
  pw.min.resize(pw.has_min ? blocks : 0);
  return static_cast<int>(panels);
}

void pack_int8_panel(const QuantMatrix& w, Int8Weights& pw, int p) {
  thread_local std::vector<float> row;
  pack_panel_int8(w, p * kPanel, panel_of<Int8PanelOut>(pw, p), row);
}

const Int8Weights& Int8WeightCache::get(const QuantMatrix& w, ThreadPool& pool) {
  Int8Weights& pw = packed_[w.data];
  if (pw.rows == 0) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.run(size_int8_weights(w, pw), [&](int p) { pack_int8_panel(w, pw, p); });
    setup_ms_ +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  return pw;
}

void qgemm_panels_int8(const QuantMatrix& w, const Int8Weights& pw, const Int8X& xp, int t_count,
                       float* y, int p0, int p1) {
  thread_local std::vector<float> sums;
  const int nb_all = w.cols / kBlk;
  const int n_tiles = int8_x_tiles(t_count);
  const bool vnni = current_int8_path() == Int8Path::Avx512Vnni;
  sums.resize(static_cast<size_t>(n_tiles) * kRows * kPanel);  // [tile][6][32]
  for (int p = p0; p < p1; ++p) {
    const int r0 = p * kPanel;
    const int width = std::min(kPanel, w.rows - r0);
    const Int8Panel panel = panel_of<Int8Panel>(pw, p);
    for (int k0 = 0; k0 < w.cols; k0 += kDepth) {
      const int kb = std::min(kDepth, w.cols - k0);
      // The last slice of a full panel writes y; until then the sums stay contiguous (y's
      // rows are a page or more apart).
      const bool direct = k0 + kb == w.cols && width == kPanel;
      const Int8Panel slice = panel.at(k0);
      for (int i = 0; i < n_tiles; ++i) {
        const int t0 = i * kRows;
        const size_t s_at = static_cast<size_t>(t0) * nb_all + (k0 / kBlk) * kRows;
        const XSlice xs{
            xp.q.data() + static_cast<size_t>(t0) * w.cols + static_cast<size_t>(k0) * kRows,
            xp.scale.data() + s_at, xp.corr.data() + s_at, xp.sum.data() + s_at};
        const int rows = std::min(kRows, t_count - t0);
        float* st = sums.data() + static_cast<size_t>(t0) * kPanel;
        float* out = direct ? y + static_cast<size_t>(t0) * w.rows + r0 : st;
        const int ldo = direct ? w.rows : kPanel;
        if (vnni)
          vnni_rows<kRows>(xs, slice, kb / kBlk, st, k0 > 0, out, ldo, rows);
        else
          tile_scalar(xs, slice, kb / kBlk, st, k0 > 0, out, ldo, rows);
      }
    }
    if (width < kPanel)  // a narrower last panel: the first columns of its sums
      for (int t = 0; t < t_count; ++t)
        std::memcpy(y + static_cast<size_t>(t) * w.rows + r0,
                    sums.data() + static_cast<size_t>(t) * kPanel, sizeof(float) * width);
  }
}

}  // namespace core::model
