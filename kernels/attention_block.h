// The attention kernel's block and thread code, as plain ATTN_HD functions with no CUDA
// runtime. attention_kernel.cu runs them on the GPU with __syncthreads() between the phases;
// kernel_emulator.cpp runs the very same phases on the CPU, thread by thread with a loop
// standing in for each barrier, so CI checks the kernel's math and its tiling without a GPU.
// Only the launch and the barriers are GPU-only (DESIGN.md §3).
//
// Work split: a block owns one K/V head and a run of consecutive queries; its threads are
// (query, query head) rows, every query head of the GQA group for each query, so the K/V
// tile staged in shared memory serves the whole group. For each key tile the block
//   1. stages the tile's key positions,            (barrier)
//   2. lets each row mask the tile; a tile no row sees is skipped (barrier-or),
//   3. stages the tile's K and V,                  (barrier)
//   4. lets each row score, softmax and accumulate (barrier)
// and finally each row normalises its output and its captured probabilities.
#pragma once

#include <stdint.h>

#include "core/attention/attn_math.h"

namespace kernels {

constexpr int kMaxHeadDim = 256;           // per-row accumulator size; larger calls go to the CPU
constexpr int kMaxKeyTile = 64;            // keys staged per tile
constexpr int kThreadsPerBlock = 128;      // target; rounded down to whole GQA groups
constexpr int kMaxThreadsPerBlock = 1024;  // a GQA group must fit one block
constexpr int kStagedFloats = 8192;        // 32 KiB of K and V per tile, under the 48 KiB default

// The device-side view of a core::AttentionCall: every pointer in one address space (device
// memory on the GPU, host memory in the emulator), captured rows packed into one buffer.
struct AttentionParams {
  int n_q = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  float scale = 0;
  attn::MaskSpec mask;                   // segment_ends in the same address space as the rest
  const int32_t* q_pos = nullptr;        // [n_q]
  const float* q = nullptr;              // [n_q, n_heads, head_dim]
  const float* k_new = nullptr;          // [n_q, n_kv_heads, head_dim]
  const float* v_new = nullptr;          // [n_q, n_kv_heads, head_dim]
  int n_slots = 0;                       //
  const int32_t* slot_pos = nullptr;     // [n_slots], -1 = empty
  const float* k_cache = nullptr;        // [n_slots, n_kv_heads, head_dim]
  const float* v_cache = nullptr;        // [n_slots, n_kv_heads, head_dim]
  float* out = nullptr;                  // [n_q, n_heads, head_dim]
  float* probs = nullptr;                // packed captured rows, q_pos[t] + 1 floats each
  const int64_t* prob_offset = nullptr;  // [n_q * n_heads] start in probs, -1 = not captured
};

// Grid and block shape for a call: grid (query_blocks, n_kv_heads), `threads` rows per block.
struct LaunchShape {
  int queries_per_block = 0;
  int threads = 0;        // queries_per_block * group
  int query_blocks = 0;   // ceil(n_q / queries_per_block)
  int key_tile = 0;       // keys per staged tile
  int shared_floats = 0;  // 2 * key_tile * head_dim floats of K/V, then key_tile int32 positions
};

ATTN_HD int key_tile_for(int head_dim) {
  const int t = kStagedFloats / (2 * head_dim);  // 64 at head_dim 64, 32 at 128, 16 at 256
  return t < kMaxKeyTile ? (t < 1 ? 1 : t) : kMaxKeyTile;
}

ATTN_HD LaunchShape launch_shape(int n_q, int n_heads, int n_kv_heads, int head_dim) {
  LaunchShape s;
  const int group = n_heads / n_kv_heads;
  s.queries_per_block = group >= kThreadsPerBlock ? 1 : kThreadsPerBlock / group;
  if (s.queries_per_block > n_q) s.queries_per_block = n_q > 0 ? n_q : 1;
  s.threads = s.queries_per_block * group;
  s.query_blocks = (n_q + s.queries_per_block - 1) / s.queries_per_block;
  s.key_tile = key_tile_for(head_dim);
  s.shared_floats = 2 * s.key_tile * head_dim + s.key_tile;
  return s;
}

// A block's shared memory carved from one float array of LaunchShape::shared_floats.
struct BlockShared {
  float* k;      // [key_tile, head_dim] keys of the tile, this block's K/V head only
  float* v;      // [key_tile, head_dim]
  int32_t* pos;  // [key_tile] position of each staged key, -1 = empty slot
};

ATTN_HD BlockShared block_shared(float* base, int key_tile, int head_dim) {
  BlockShared s;
  s.k = base;
  s.v = base + key_tile * head_dim;
  s.pos = reinterpret_cast<int32_t*>(base + 2 * key_tile * head_dim);
  return s;
}

// What one thread carries from tile to tile: its row and its online-softmax state.
struct ThreadRow {
  bool active = false;  // false for the padding threads of the last query block
  int t = 0;            // query index in the call
  int h = 0;            // query head
  int32_t qp = 0;       // query position
  const float* q = nullptr;
  float* prob_row = nullptr;  // captured row (raw scores until row_end), or null
  attn::OnlineSoftmax st;
  bool valid[kMaxKeyTile];  // this row's mask over the current tile
  float acc[kMaxHeadDim];   // un-normalised output
};

// Key sources, in order: the cache as it was before the chunk, then the chunk's fresh keys.
constexpr int kSourceCache = 0;
constexpr int kSourceNew = 1;

ATTN_HD int source_length(const AttentionParams& p, int source) {
  return source == kSourceCache ? p.n_slots : p.n_q;
}

ATTN_HD void row_begin(const AttentionParams& p, const LaunchShape& s, int block_x, int kv_head,
                       int tid, ThreadRow& r) {
  const int group = p.n_heads / p.n_kv_heads;
  r.t = block_x * s.queries_per_block + tid / group;
  r.h = kv_head * group + tid % group;
  r.active = r.t < p.n_q;
  r.st = attn::online_softmax_init();
  r.q = nullptr;
  r.prob_row = nullptr;
  if (!r.active) return;
  r.qp = p.q_pos[r.t];
  const int64_t row = static_cast<int64_t>(r.t) * p.n_heads + r.h;
  r.q = p.q + row * p.head_dim;
  if (p.prob_offset && p.prob_offset[row] >= 0) {
    r.prob_row = p.probs + p.prob_offset[row];
    for (int k = 0; k <= r.qp; ++k) r.prob_row[k] = -INFINITY;
  }
  for (int d = 0; d < p.head_dim; ++d) r.acc[d] = 0.0f;
}

// Phase 1: threads tid, tid + n_threads, ... copy the positions of keys [j0, j0 + m).
ATTN_HD void stage_positions(const AttentionParams& p, int source, int j0, int m, int tid,
                             int n_threads, const BlockShared& sh) {
  const int32_t* pos = source == kSourceCache ? p.slot_pos : p.q_pos;
  for (int j = tid; j < m; j += n_threads) sh.pos[j] = pos[j0 + j];
}

// Phase 2: this row's mask over the staged tile; true when it sees any key of it.
ATTN_HD bool row_mask(const AttentionParams& p, const BlockShared& sh, int m, ThreadRow& r) {
  if (!r.active) return false;
  return attn::mask_tile(r.qp, sh.pos, m, p.mask, r.valid);
}

// Phase 3: cooperative, coalesced copy of the tile's K and V rows for one K/V head.
ATTN_HD void stage_kv(const AttentionParams& p, int source, int kv_head, int j0, int m, int tid,
                      int n_threads, const BlockShared& sh) {
  const float* kb = source == kSourceCache ? p.k_cache : p.k_new;
  const float* vb = source == kSourceCache ? p.v_cache : p.v_new;
  const int hd = p.head_dim;
  const int64_t stride = static_cast<int64_t>(p.n_kv_heads) * hd;
  for (int i = tid; i < m * hd; i += n_threads) {
    const int j = i / hd;
    const int64_t at = (j0 + j) * stride + static_cast<int64_t>(kv_head) * hd + (i - j * hd);
    sh.k[i] = kb[at];
    sh.v[i] = vb[at];
  }
}

// Phase 4: the per-tile math of attn_math.h on the staged tile.
ATTN_HD void row_tile(const AttentionParams& p, const BlockShared& sh, int m, ThreadRow& r) {
  float scores[kMaxKeyTile];
  float prob[kMaxKeyTile];
  const int hd = p.head_dim;
  attn::score_tile(r.q, sh.k, hd, m, hd, p.scale, r.valid, scores);
  if (r.prob_row)
    for (int j = 0; j < m; ++j)
      if (r.valid[j]) r.prob_row[sh.pos[j]] = scores[j];
  attn::online_softmax_tile(r.st, scores, m, prob, r.acc, hd);
  attn::accumulate_pv(prob, sh.v, hd, m, hd, r.acc);
}

// Last: normalise the output and turn the kept raw scores into probabilities.
ATTN_HD void row_end(const AttentionParams& p, ThreadRow& r) {
  if (!r.active) return;
  const int64_t row = static_cast<int64_t>(r.t) * p.n_heads + r.h;
  attn::finish_row(r.st, r.acc, p.head_dim, p.out + row * p.head_dim);
  if (r.prob_row) {
    const float inv = attn::inverse_sum(r.st);
    for (int k = 0; k <= r.qp; ++k)
      r.prob_row[k] = attn::final_probability(r.prob_row[k], r.st, inv);
  }
}

}  // namespace kernels
