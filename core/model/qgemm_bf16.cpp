#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/model/qgemm_bf16.h"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/model/dequant.h"
#include "core/model/draft_path.h"
#include "core/model/qgemm.h"

namespace core::model {

namespace {

constexpr int kPanel = 32;   // output columns a panel holds, as in qgemm.cpp
constexpr int kRows = 12;    // rows of x a kernel call covers (12 x 2 accumulators)
constexpr int kDepth = 256;  // k per packed slice: 16 KB of bf16 panel, which stays in L1

// x's bf16 pairs read as one 32-bit lane each (the type may alias uint16_t).
typedef uint32_t __attribute__((may_alias)) pair32;

bool cpu_has_avx512_bf16() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  // CPUID leaf 7, sub-leaf 1: EAX bit 5 is AVX512_BF16.
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return false;
  return (a >> 5) & 1u;
}

DraftPathSlot<DraftPath>& path_slot() {
  static DraftPathSlot<DraftPath> s(cpu_has_avx512_bf16());
  return s;
}

// Packs W[r0 .. r0+31, k0 .. k0+kb) as bf16 pairs: panel[(k / 2) * 64 + j * 2 + k % 2].
void pack_panel_bf16(const QuantMatrix& w, int r0, int k0, int kb, uint16_t* panel, float* row) {
  for (int j = 0; j < kPanel; ++j) {
    dequantize_row_slice(w, r0 + j, k0, kb, row);
    for (int k = 0; k < kb; ++k)
      panel[static_cast<size_t>(k / 2) * 2 * kPanel + j * 2 + k % 2] = to_bf16(row[k]);
  }
}

// c[t, 0..31] (+)= sum over k of x[t, k] panel[k, 0..31] for t < R, two products a step.
template <int R>
__attribute__((target("avx512f,avx512bf16"))) void tile_bf16(const pair32* x, const uint16_t* panel,
                                                             int n_kp, float* c, int ldc,
                                                             bool add) {
  __m512 acc[R][2];
#pragma GCC unroll 16
  for (int t = 0; t < R; ++t) {
    float* ct = c + static_cast<size_t>(t) * ldc;
    acc[t][0] = add ? _mm512_loadu_ps(ct) : _mm512_setzero_ps();
    acc[t][1] = add ? _mm512_loadu_ps(ct + 16) : _mm512_setzero_ps();
  }
  for (int kp = 0; kp < n_kp; ++kp) {
    const uint16_t* p = panel + static_cast<size_t>(kp) * 2 * kPanel;
    const __m512bh w0 = (__m512bh)_mm512_loadu_si512(p);
    const __m512bh w1 = (__m512bh)_mm512_loadu_si512(p + kPanel);
#pragma GCC unroll 16
    for (int t = 0; t < R; ++t) {
      const __m512bh b = (__m512bh)_mm512_set1_epi32(static_cast<int>(x[kp * kRows + t]));
      acc[t][0] = _mm512_dpbf16_ps(acc[t][0], w0, b);
      acc[t][1] = _mm512_dpbf16_ps(acc[t][1], w1, b);
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < R; ++t) {
    _mm512_storeu_ps(c + static_cast<size_t>(t) * ldc, acc[t][0]);
    _mm512_storeu_ps(c + static_cast<size_t>(t) * ldc + 16, acc[t][1]);
  }
}

template <int R>
void bf16_rows(const pair32* x, const uint16_t* panel, int n_kp, float* c, int ldc, int rows,
               bool add) {
  if constexpr (R > 1) {
    if (rows < R) return bf16_rows<R - 1>(x, panel, n_kp, c, ldc, rows, add);
  }
  tile_bf16<R>(x, panel, n_kp, c, ldc, add);
}

}  // namespace

const char* precision_name(Precision p) {
  return p == Precision::DraftBf16   ? "draft (bf16)"
         : p == Precision::DraftInt8 ? "draft (int8)"
                                     : "exact";
}

DraftPath best_draft_path() {
  return path_slot().best();
}
DraftPath current_draft_path() {
  return path_slot().current();
}
void force_draft_path(DraftPath p) {
  path_slot().force(p);
}
const char* draft_path_name(DraftPath p) {
  return p == DraftPath::Avx512Bf16 ? "avx512-bf16" : "emulated";
}

uint16_t to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float from_bf16(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

void pack_x_bf16(const float* x, int t_count, int cols, std::vector<uint16_t>& xp) {
  const int n_tiles = (t_count + kRows - 1) / kRows;
  xp.assign(static_cast<size_t>(n_tiles) * kRows * cols, 0);
  for (int t = 0; t < t_count; ++t) {
    uint16_t* dst = xp.data() + static_cast<size_t>(t / kRows) * kRows * cols + (t % kRows) * 2;
    const float* src = x + static_cast<size_t>(t) * cols;
    for (int k = 0; k < cols; ++k)
      dst[static_cast<size_t>(k / 2) * 2 * kRows + k % 2] = to_bf16(src[k]);
  }
}

void qgemm_panels_bf16(const QuantMatrix& w, const uint16_t* xp, int t_count, float* y, int p0,
                       int p1) {
  thread_local std::vector<uint16_t> panel;
  thread_local std::vector<float> row, edge;
  const int depth = std::max(w.block_elems, kDepth / w.block_elems * w.block_elems);
  panel.resize(static_cast<size_t>(depth) * kPanel);
  row.resize(depth);
  for (int p = p0; p < p1; ++p) {
    const int r0 = p * kPanel;
    const int width = std::min(kPanel, w.rows - r0);
    float* c = y + r0;
    int ldc = w.rows;
    if (width < kPanel) {  // a narrower last panel computes into [T, 32] and copies out
      edge.resize(static_cast<size_t>(t_count) * kPanel);
      c = edge.data();
      ldc = kPanel;
    }
    for (int k0 = 0; k0 < w.cols; k0 += depth) {
      const int kb = std::min(depth, w.cols - k0);
      pack_panel_bf16(w, r0, k0, kb, panel.data(), row.data());
      for (int t0 = 0; t0 < t_count; t0 += kRows) {
        const uint16_t* xt =
            xp + static_cast<size_t>(t0) * w.cols + static_cast<size_t>(k0) * kRows;
        bf16_rows<kRows>(reinterpret_cast<const pair32*>(xt), panel.data(), kb / 2,
                         c + static_cast<size_t>(t0) * ldc, ldc, std::min(kRows, t_count - t0),
                         k0 > 0);
      }
    }
    if (width < kPanel)
      for (int t = 0; t < t_count; ++t)
        std::memcpy(y + static_cast<size_t>(t) * w.rows + r0, edge.data() + t * kPanel,
                    sizeof(float) * width);
  }
}

}  // namespace core::model
