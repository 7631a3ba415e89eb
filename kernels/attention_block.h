// The attention kernel's block and thread code, as plain ATTN_HD functions with no CUDA
// runtime. attention_kernel.cu runs them on the GPU with __syncthreads() between the phases;
// kernel_emulator.cpp runs the very same phases on the CPU, thread by thread with a loop
// standing in for each barrier, so CI checks the kernel's math and its tiling without a GPU.
// Only the launch and the barriers are GPU-only (DESIGN.md §3).
//
// Work split: a block owns one K/V head and a run of consecutive queries. Its rows are
// (query, query head) pairs, every query head of the GQA group for each query, so the K/V
// tile staged in shared memory serves the whole group. When a block has few rows (decode, a
// short chunk) each row gets several lanes (threads) that split every key tile between them
// and merge their partial softmax states at the end (split-K, as in flash-decoding).
// For each key tile the block
//   1. stages the tile's key positions,                            (barrier)
//   2. lets each lane mask its share; a tile nobody sees is skipped (barrier-or)
//   3. stages the tile's K and V,                                  (barrier)
//   4. lets each lane score, softmax and accumulate its share      (barrier)
// then each lane publishes its partial state (barrier), and the lanes of a row merge them,
// each writing a share of the output and of the captured probabilities.
#pragma once

#include <stdint.h>

#include "core/attention/attn_math.h"
#include "core/attention/launch_shape.h"

namespace kernels {

// The launch shape (grid, block, key tile, lanes) lives in core/attention/launch_shape.h so the
// flash view can draw and count the tiles this kernel visits without including kernels/.
using attn::key_tile_for;
using attn::kMaxHeadDim;
using attn::kMaxKeyTile;
using attn::kMaxLanes;
using attn::kMaxThreadsPerBlock;
using attn::kStagedFloats;
using attn::kThreadsPerBlock;
using attn::lane_state_floats;
using attn::launch_shape;
using attn::LaunchShape;

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

// A block's shared memory carved from one float array of LaunchShape::shared_floats.
struct BlockShared {
  float* k;      // [key_tile, head_dim] keys of the tile, this block's K/V head only
  float* v;      // [key_tile, head_dim]
  int32_t* pos;  // [key_tile] position of each staged key, -1 = empty slot
  // After the last tile the K/V area holds each thread's partial state for the merge.
  float* lane_m;    // [threads]
  float* lane_l;    // [threads]
  float* lane_acc;  // [threads, head_dim]
};

ATTN_HD BlockShared block_shared(float* base, const LaunchShape& s, int head_dim) {
  BlockShared b;
  b.k = base;
  b.v = base + s.key_tile * head_dim;
  b.pos = reinterpret_cast<int32_t*>(base + s.staged_floats);
  b.lane_m = base;
  b.lane_l = base + s.threads;
  b.lane_acc = base + 2 * s.threads;
  return b;
}

// What one thread carries from tile to tile: its row, its lane and its online-softmax state.
struct ThreadRow {
  bool active = false;  // false for the padding threads of the last query block
  int t = 0;            // query index in the call
  int h = 0;            // query head
  int tid = 0;          // thread in the block
  int lane = 0;         // which share of each key tile this thread takes
  int lanes = 1;        //
  int lo = 0;           // this lane's share [lo, hi) of the current tile
  int hi = 0;           //
  int32_t qp = 0;       // query position
  const float* q = nullptr;
  float* prob_row = nullptr;  // captured row (raw scores until row_end), or null
  attn::OnlineSoftmax st;
  bool valid[kMaxKeyTile];  // mask over this lane's share of the current tile
  float acc[kMaxHeadDim];   // un-normalised output over this lane's keys
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
  const int row_in_block = tid / s.lanes;
  r.tid = tid;
  r.lane = tid % s.lanes;
  r.lanes = s.lanes;
  r.t = block_x * s.queries_per_block + row_in_block / group;
  r.h = kv_head * group + row_in_block % group;
  r.active = r.t < p.n_q;
  r.st = attn::online_softmax_init();
  r.q = nullptr;
  r.prob_row = nullptr;
  for (int d = 0; d < p.head_dim; ++d) r.acc[d] = 0.0f;
  if (!r.active) return;
  r.qp = p.q_pos[r.t];
  const int64_t row = static_cast<int64_t>(r.t) * p.n_heads + r.h;
  r.q = p.q + row * p.head_dim;
  if (p.prob_offset && p.prob_offset[row] >= 0) {
    r.prob_row = p.probs + p.prob_offset[row];
    for (int k = r.lane; k <= r.qp; k += r.lanes) r.prob_row[k] = -INFINITY;
  }
}

// Phase 1: threads tid, tid + n_threads, ... copy the positions of keys [j0, j0 + m).
ATTN_HD void stage_positions(const AttentionParams& p, int source, int j0, int m, int tid,
                             int n_threads, const BlockShared& sh) {
  const int32_t* pos = source == kSourceCache ? p.slot_pos : p.q_pos;
  for (int j = tid; j < m; j += n_threads) sh.pos[j] = pos[j0 + j];
}

// Phase 2: this lane's share [lo, hi) of the staged tile and its mask; true when it sees any
// key there.
ATTN_HD bool row_mask(const AttentionParams& p, const BlockShared& sh, int m, ThreadRow& r) {
  r.lo = r.lane * m / r.lanes;
  r.hi = (r.lane + 1) * m / r.lanes;
  if (!r.active) return false;
  return attn::mask_tile(r.qp, sh.pos + r.lo, r.hi - r.lo, p.mask, r.valid);
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

// Phase 4: the per-tile math of attn_math.h on this lane's share of the staged tile.
ATTN_HD void row_tile(const AttentionParams& p, const BlockShared& sh, ThreadRow& r) {
  float scores[kMaxKeyTile];
  float prob[kMaxKeyTile];
  const int hd = p.head_dim;
  const int n = r.hi - r.lo;
  attn::score_tile(r.q, sh.k + r.lo * hd, hd, n, hd, p.scale, r.valid, scores);
  if (r.prob_row)
    for (int j = 0; j < n; ++j)
      if (r.valid[j]) r.prob_row[sh.pos[r.lo + j]] = scores[j];
  attn::online_softmax_tile(r.st, scores, n, prob, r.acc, hd);
  attn::accumulate_pv(prob, sh.v + r.lo * hd, hd, n, hd, r.acc);
}

// After the last tile, with lanes: each thread's partial state goes to shared memory.
ATTN_HD void row_publish(const AttentionParams& p, const BlockShared& sh, const ThreadRow& r) {
  if (r.lanes == 1) return;
  sh.lane_m[r.tid] = r.st.m;
  sh.lane_l[r.tid] = r.st.l;
  for (int d = 0; d < p.head_dim; ++d) sh.lane_acc[r.tid * p.head_dim + d] = r.acc[d];
}

// Last: merge the row's lanes, normalise the output and turn the kept raw scores into
// probabilities. Lane i writes output elements and probabilities i, i + lanes, ...
ATTN_HD void row_end(const AttentionParams& p, const BlockShared& sh, ThreadRow& r) {
  if (!r.active) return;
  const int hd = p.head_dim;
  float* out = p.out + (static_cast<int64_t>(r.t) * p.n_heads + r.h) * hd;
  attn::OnlineSoftmax st = r.st;
  if (r.lanes == 1) {
    attn::finish_row(st, r.acc, hd, out);
  } else {
    const int first = r.tid - r.lane;  // lane 0 of this row
    float w[kMaxLanes];
    st = attn::merge_softmax(sh.lane_m + first, sh.lane_l + first, r.lanes, w);
    const float inv = attn::inverse_sum(st);
    for (int d = r.lane; d < hd; d += r.lanes) {
      float a = 0.0f;
      for (int i = 0; i < r.lanes; ++i) a += w[i] * sh.lane_acc[(first + i) * hd + d];
      out[d] = a * inv;
    }
  }
  if (r.prob_row) {
    const float inv = attn::inverse_sum(st);
    for (int k = r.lane; k <= r.qp; k += r.lanes)
      r.prob_row[k] = attn::final_probability(r.prob_row[k], st, inv);
  }
}

}  // namespace kernels
