// The one definition of every attention rule: which key a query may see, which K/V head a
// query head reads, which ring slot a position lands in, and the online-softmax step.
// The CPU reference, the CUDA kernels, the views and the tests all include this file, so the
// mask drawn on screen is the mask the kernel applied. Plain C++ with no runtime
// dependencies, so it compiles as host code everywhere and as __host__ __device__ under nvcc.
#pragma once

#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define ATTN_HD __host__ __device__ __forceinline__
#else
#define ATTN_HD inline
#endif

namespace attn {

enum class MaskKind : int32_t {
  Causal = 0,
  SlidingWindow = 1,
  Chunked = 2,  // chunked prefill: causal (or SWA when window > 0), computed C queries at a time
  BlockDiagonal = 3,  // packed prompts: causal within a segment, nothing across segments
  Sparse = 4,         // global + local band + random keys, causal
};

// The two window conventions in use differ by one; every SWA view names the active one.
enum class WindowConvention : int32_t {
  IncludingSelf = 0,     // W keys including self: 0 <= q-k < W (Hugging Face sliding_window, Gemma)
  SelfPlusPrevious = 1,  // self plus W previous: 0 <= q-k <= W (Mistral reference, FA window=(W,0))
};

// Plain description of a mask. Segment ends are borrowed (host or device memory, never owned),
// so the struct can be passed by value into a kernel.
struct MaskSpec {
  MaskKind kind = MaskKind::Causal;
  int32_t window = 0;  // SWA width in the convention below; 0 = no window
  WindowConvention convention = WindowConvention::IncludingSelf;
  int32_t chunk = 0;                      // prefill chunk length C (Chunked); 0 = one chunk
  const int32_t* segment_ends = nullptr;  // [n_segments] exclusive cumulative ends, ascending
  int32_t n_segments = 0;
  int32_t sparse_global = 0;  // first G positions are global: every query sees them
  int32_t sparse_local = 0;   // band of L keys including self
  int32_t sparse_random = 0;  // R extra keys per query, drawn by hash from [0, q]
  uint32_t sparse_seed = 0;
};

// Largest q-k distance a window admits, or -1 when there is no window.
ATTN_HD int32_t window_max_distance(int32_t window, WindowConvention c) {
  if (window <= 0) return -1;
  return c == WindowConvention::IncludingSelf ? window - 1 : window;
}

ATTN_HD bool in_window(int32_t q, int32_t k, int32_t window, WindowConvention c) {
  const int32_t d = q - k;
  if (d < 0) return false;
  const int32_t max_d = window_max_distance(window, c);
  return max_d < 0 || d <= max_d;
}

// Segment index of a position for packed prompts; positions past the last end form one
// trailing segment of their own.
ATTN_HD int32_t segment_of(int32_t pos, const int32_t* ends, int32_t n) {
  int32_t s = 0;
  while (s < n && pos >= ends[s]) ++s;
  return s;
}

// First position of pos's segment: where RoPE positions restart at 0 for a packed prompt
// (the trailing segment past the last end starts at that end).
ATTN_HD int32_t segment_start(int32_t pos, const int32_t* ends, int32_t n) {
  const int32_t s = segment_of(pos, ends, n);
  return s == 0 ? 0 : ends[s - 1];
}

ATTN_HD int32_t chunk_of(int32_t pos, int32_t chunk) {
  return chunk > 0 ? pos / chunk : 0;
}

// 32-bit integer mix (lowbias32 constants): a stateless hash both host and device agree on.
ATTN_HD uint32_t hash_u32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// The i-th random key of query q, uniform over [0, q].
ATTN_HD int32_t sparse_random_key(int32_t q, int32_t i, uint32_t seed) {
  const uint32_t h =
      hash_u32(seed ^ hash_u32(static_cast<uint32_t>(q) * 0x9e3779b9U + static_cast<uint32_t>(i)));
  return static_cast<int32_t>(h % static_cast<uint32_t>(q + 1));
}

// Why a (q, k) pair is visible or not; views use it for hover text, `visible` for the answer.
enum class Reason : int32_t {
  Visible = 0,
  Future,         // k > q
  OutsideWindow,  // q - k beyond the window
  OtherSegment,   // packed prompts: different prompt
  NotInPattern,   // sparse: neither global, local nor drawn
  OutOfRange,     // negative position
};

ATTN_HD Reason visibility(int32_t q, int32_t k, const MaskSpec& m) {
  if (q < 0 || k < 0) return Reason::OutOfRange;
  if (k > q) return Reason::Future;
  switch (m.kind) {
    case MaskKind::Causal:
      return Reason::Visible;
    case MaskKind::SlidingWindow:
    case MaskKind::Chunked:
      return in_window(q, k, m.window, m.convention) ? Reason::Visible : Reason::OutsideWindow;
    case MaskKind::BlockDiagonal:
      if (segment_of(q, m.segment_ends, m.n_segments) !=
          segment_of(k, m.segment_ends, m.n_segments))
        return Reason::OtherSegment;
      return in_window(q, k, m.window, m.convention) ? Reason::Visible : Reason::OutsideWindow;
    case MaskKind::Sparse: {
      if (k < m.sparse_global || q < m.sparse_global) return Reason::Visible;
      if (q - k < m.sparse_local) return Reason::Visible;
      for (int32_t i = 0; i < m.sparse_random; ++i)
        if (sparse_random_key(q, i, m.sparse_seed) == k) return Reason::Visible;
      return Reason::NotInPattern;
    }
  }
  return Reason::Visible;
}

ATTN_HD bool visible(int32_t q, int32_t k, const MaskSpec& m) {
  return visibility(q, k, m) == Reason::Visible;
}

// How many leading rows of the mask see every key 0..q (nothing but the future hidden): all of
// them for Causal (INT32_MAX), max distance + 1 for a window (W rows including self, W + 1
// for self plus W previous), 0 for the masks whose rows are not told apart by one bound
// (block-diagonal, sparse), which callers treat as "no row known to be plain causal".
ATTN_HD int32_t causal_rows(const MaskSpec& m) {
  switch (m.kind) {
    case MaskKind::Causal:
      return INT32_MAX;
    case MaskKind::SlidingWindow:
    case MaskKind::Chunked:
      return m.window > 0 ? window_max_distance(m.window, m.convention) + 1 : INT32_MAX;
    default:
      return 0;
  }
}

// Whether the mask is a band in q - k: visible(q, k) <=> 0 <= q - k <= *max_d for all q, k >= 0
// (*max_d = INT32_MAX when unbounded). Kernels use it to find a block's keys without testing
// every pair. Packed prompts with segments and the sparse pattern are not bands.
ATTN_HD bool band_of(const MaskSpec& m, int32_t* max_d) {
  const int32_t w = window_max_distance(m.window, m.convention);
  switch (m.kind) {
    case MaskKind::Causal:
      *max_d = 2147483647;
      return true;
    case MaskKind::BlockDiagonal:
      if (m.n_segments > 0) return false;
      [[fallthrough]];
    case MaskKind::SlidingWindow:
    case MaskKind::Chunked:
      *max_d = w < 0 ? 2147483647 : w;
      return true;
    case MaskKind::Sparse:
      return false;
  }
  return false;
}

// The first key query position q sees under a band mask (keys before it are hidden), or -1
// when the mask is not a band.
ATTN_HD int32_t band_first_key(const MaskSpec& m, int32_t q) {
  int32_t max_d = 0;
  if (!band_of(m, &max_d)) return -1;
  return q - static_cast<int64_t>(max_d) > 0 ? q - max_d : 0;
}

// The sparse pattern in its encoder (bidirectional) form, as Longformer and BigBird use it in
// their encoders: global tokens see every position and every position sees them, the local
// band reaches L-1 keys to each side, and the random keys are those visible() draws. The
// views use it to show the reach claim "global tokens connect any two positions in two
// layers", which holds here and not in the causal form above, where a global token sees
// only the tokens before it.
ATTN_HD bool sparse_visible_encoder(int32_t q, int32_t k, const MaskSpec& m) {
  if (q < 0 || k < 0) return false;
  if (q < m.sparse_global || k < m.sparse_global) return true;
  const int32_t d = q > k ? q - k : k - q;
  if (d < m.sparse_local) return true;
  for (int32_t i = 0; i < m.sparse_random; ++i)
    if (sparse_random_key(q, i, m.sparse_seed) == k) return true;
  return false;
}

// GQA: query head h reads K/V head h / (n_heads / n_kv_heads). MHA when equal, MQA at 1.
ATTN_HD int32_t kv_head_of(int32_t q_head, int32_t n_heads, int32_t n_kv_heads) {
  return q_head / (n_heads / n_kv_heads);
}

// Rolling-buffer KV cache: position p lives in slot p mod W (Mistral's RotatingBufferCache).
ATTN_HD int32_t ring_slot(int32_t pos, int32_t window) {
  return pos % window;
}

// Online softmax (Milakov & Gimelshein): running max m and running sum l of exp(s - m).
// push() returns the factor by which an accumulator over earlier values must be rescaled;
// the caller then adds exp(s - m) * v.
struct OnlineSoftmax {
  float m;
  float l;
};

ATTN_HD OnlineSoftmax online_softmax_init() {
  return OnlineSoftmax{-3.402823466e+38f, 0.0f};
}

// Folds score s into the state. Writes p = exp(s - m_new) and returns exp(m_old - m_new), the
// factor that rescales an accumulator built against the old maximum.
ATTN_HD float online_softmax_push(OnlineSoftmax& st, float s, float* p) {
  const float m_new = s > st.m ? s : st.m;
  const float rescale = expf(st.m - m_new);
  *p = expf(s - m_new);
  st.l = st.l * rescale + *p;
  st.m = m_new;
  return rescale;
}

}  // namespace attn
