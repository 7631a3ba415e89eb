// The attention kernel's launch shape: how kernels/attention_block.h splits a call into
// blocks of (query, query head) rows, how many keys it stages per tile and how many lanes
// share a row. Plain ATTN_HD arithmetic with no runtime, so the CUDA kernel, the kernel
// emulator and the flash view (which counts the tiles this kernel visits) share one
// definition.
#pragma once

#include "core/attention/spec.h"

namespace attn {

constexpr int kMaxHeadDim = 256;           // per-row accumulator size; larger calls go to the CPU
constexpr int kMaxKeyTile = 64;            // keys staged per tile
constexpr int kThreadsPerBlock = 128;      // target; rounded down to whole GQA groups
constexpr int kMaxThreadsPerBlock = 1024;  // a GQA group must fit one block
constexpr int kMaxLanes = 32;              // threads sharing one row's keys
constexpr int kStagedFloats = 8192;        // 32 KiB of K and V per tile, under the 48 KiB default

// Grid and block shape for a call: grid (query_blocks, n_kv_heads), `threads` per block.
struct LaunchShape {
  int queries_per_block = 0;
  int rows = 0;           // queries_per_block * group: (query, head) rows per block
  int lanes = 0;          // threads per row
  int threads = 0;        // rows * lanes
  int query_blocks = 0;   // ceil(n_q / queries_per_block)
  int key_tile = 0;       // keys per staged tile
  int staged_floats = 0;  // max(K/V tile, lane merge area) at the start of shared memory
  int shared_floats = 0;  // staged_floats, then key_tile int32 positions
};

ATTN_HD int key_tile_for(int head_dim) {
  const int t = kStagedFloats / (2 * head_dim);  // 64 at head_dim 64, 32 at 128, 16 at 256
  return t < kMaxKeyTile ? (t < 1 ? 1 : t) : kMaxKeyTile;
}

// Floats one lane publishes for the merge: its max, its sum and its accumulator.
ATTN_HD int lane_state_floats(int head_dim) {
  return head_dim + 2;
}

ATTN_HD LaunchShape launch_shape(int n_q, int n_heads, int n_kv_heads, int head_dim) {
  LaunchShape s;
  const int group = n_heads / n_kv_heads;
  s.queries_per_block = group >= kThreadsPerBlock ? 1 : kThreadsPerBlock / group;
  if (s.queries_per_block > n_q) s.queries_per_block = n_q > 0 ? n_q : 1;
  s.rows = s.queries_per_block * group;
  // Spare threads become lanes, as far as their merge area fits the staging area's size.
  int lanes = kThreadsPerBlock / s.rows;
  const int fit = kStagedFloats / (s.rows * lane_state_floats(head_dim));
  if (lanes > fit) lanes = fit;
  if (lanes > kMaxLanes) lanes = kMaxLanes;
  s.lanes = lanes < 1 ? 1 : lanes;
  s.threads = s.rows * s.lanes;
  s.query_blocks = (n_q + s.queries_per_block - 1) / s.queries_per_block;
  s.key_tile = key_tile_for(head_dim);
  s.staged_floats = 2 * s.key_tile * head_dim;
  const int merge = s.lanes > 1 ? s.threads * lane_state_floats(head_dim) : 0;
  if (merge > s.staged_floats) s.staged_floats = merge;
  s.shared_floats = s.staged_floats + s.key_tile;
  return s;
}

}  // namespace attn
