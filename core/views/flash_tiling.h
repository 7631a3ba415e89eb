// FlashAttention tiling: the block sizes the FlashAttention paper derives from on-chip memory,
// the Q x K tile grid a mask leaves (skipped / masked / full tiles, from the rules of
// core/attention/spec.h), the HBM traffic of standard and tiled attention next to the paper's
// Theta(N^2 d^2 / M) bound, FA1 against FA2, and the same tile grid for attnlab's own kernel
// (kernels/attention_block.h), whose counts the kernel emulator measures.
#pragma once

#include <cstdint>
#include <vector>

#include "core/scene/scene.h"

namespace core {

// Shared memory per SM: the flash view's presets for flash.sram_bytes.
inline constexpr int64_t kSramA100 = 192 * 1024;
inline constexpr int64_t kSramH100 = 228 * 1024;

// FlashAttention (Dao et al. 2022, Algorithm 1 line 1): with M elements of on-chip memory,
// Bc = ceil(M / 4d) and Br = min(Bc, d). M counts elements, so M = sram_bytes / element bytes.
struct FlashBlockSizes {
  int64_t sram_elems = 0;  // M
  int block_cols = 0;      // Bc, keys per tile
  int block_rows = 0;      // Br, queries per tile
};
FlashBlockSizes flash_block_sizes(int64_t sram_bytes, int elem_bytes, int head_dim);

enum class TileKind : uint8_t { Skipped, Masked, Full };
const char* tile_kind_name(TileKind k);  // "skipped", "masked", "full"

// One tile: queries [q0, q1) x keys [k0, k1).
struct Tile {
  int q0 = 0, q1 = 0, k0 = 0, k1 = 0;
  TileKind kind = TileKind::Full;
};

// The tiles a tiled kernel walks for an N-token prefill. Queries go in row blocks of Br; keys
// in tiles of Bc. A chunked prefill is one call per chunk [s, e): its row blocks start at s,
// and its keys are the cache [0, s) tiled from 0, then the chunk's own keys [s, e) tiled
// from s, as attnlab's kernel stages them. Every other mask is one call with s = 0.
struct TileGrid {
  int n = 0;
  int block_rows = 0, block_cols = 0;
  int row_blocks = 0;  // query blocks over all calls
  int64_t total = 0, skipped = 0, masked = 0, full = 0;
  int64_t all_keys = 0;          // sum of keys over every tile
  int64_t live_keys = 0;         // sum of keys over tiles that are not skipped
  int64_t live_query_rows = 0;   // sum of queries over tiles that are not skipped
  int64_t live_column_keys = 0;  // sum of keys over each call's key tiles that any row block uses
  std::vector<Tile> tiles;       // in walk order; empty when more than kTileGridMaxStored
};

inline constexpr int64_t kTileGridMaxStored = 1 << 16;

TileGrid build_tile_grid(const attn::MaskSpec& spec, int n, int block_rows, int block_cols,
                         bool keep_tiles = true);

// Whether every pair of the tile is visible, none is, or some are: the closed form for
// causal, sliding-window, chunked and block-diagonal masks (the q-k differences of a
// rectangle are one integer interval), per-row key intervals for sparse masks.
TileKind classify_tile(const attn::MaskSpec& spec, const Tile& t);

// HBM accesses for one head (batch 1), in elements, as the FlashAttention papers count them.
struct HbmTraffic {
  // Standard attention (Algorithm 0): read Q, K; write S; read S; write P; read P, V; write O:
  // 4Nd + 4N^2, whatever the mask (S and P are materialised in full).
  int64_t standard = 0;
  // FA1 (Algorithm 1, outer loop over K/V tiles): O, l, m initialised in HBM (N(d+2)); per
  // key tile with any live tile, K_j and V_j read once (2 Bc d); per live tile, Q_i, O_i,
  // l_i, m_i read and O_i, l_i, m_i written (Br(3d + 4)).
  int64_t fa1 = 0;
  // FA2 (outer loop over Q tiles): per row block Q_i read and O_i, L_i written once
  // (Br(2d + 1)); per live tile K_j and V_j read (2 Bc d).
  int64_t fa2 = 0;
  double bound = 0;  // N^2 d^2 / M, the paper's Theta(N^2 d^2 M^-1) without its constant
};
HbmTraffic hbm_traffic(const TileGrid& g, int head_dim, int64_t sram_elems);

// FA1 against FA2 for one head: what runs in parallel and how often the output is rescaled.
struct FlashSchedule {
  int64_t thread_blocks_fa1 = 0;  // batch x heads: one block walks all tiles of a head
  int64_t thread_blocks_fa2 = 0;  // batch x heads x row blocks: one block per Q tile
  // Row rescales: FA1 rescales O_i by exp(m_old - m_new) and by l_old / l_new on every live
  // tile (2 Br per tile); FA2 only by exp(m_old - m_new) per live tile, then once by 1/l.
  int64_t rescales_fa1 = 0;
  int64_t rescales_fa2 = 0;
};
FlashSchedule flash_schedule(const TileGrid& g, int n_heads, int batch);

// attnlab's kernel on the same prefill: its launch shape's row blocks (queries_per_block) and
// key tiles (key_tile), over n_kv_heads heads. Predicts what the kernel emulator counts.
struct KernelTiles {
  int queries_per_block = 0;
  int key_tile = 0;
  TileGrid grid;              // one K/V head's tiles
  int64_t tiles = 0;          // grid.total x n_kv_heads
  int64_t tiles_skipped = 0;  //
  int64_t tiles_full = 0;     //
  int64_t bytes_kv = 0;       // 2 x keys x head_dim x 4 per live tile, every K/V head
  int64_t bytes_pos = 0;      // 4 bytes per key of every tile
  int64_t bytes_q = 0;        // N x n_heads x head_dim x 4
  int64_t bytes_out = 0;      // the same, written
};
KernelTiles kernel_tiles(const attn::MaskSpec& spec, int n, int n_heads, int n_kv_heads,
                         int head_dim, bool keep_tiles = true);

// Everything the flash view shows for a scene.
struct FlashTiling {
  int n = 0, head_dim = 0, elem_bytes = 0, version = 2;
  int64_t sram_bytes = 0;
  FlashBlockSizes sizes;
  TileGrid grid;  // the paper's Br x Bc tiles
  HbmTraffic hbm;
  int64_t hbm_bytes_standard = 0;  // hbm.standard x elem_bytes
  int64_t hbm_bytes_tiled = 0;     // hbm.fa1 or hbm.fa2 (flash.version) x elem_bytes
  FlashSchedule schedule;
  KernelTiles kernel;
};
// `keep_tiles` keeps the paper grid's tiles (for drawing); the kernel's grid keeps counts only.
FlashTiling build_flash_tiling(const Scene& scene, bool keep_tiles = true);

}  // namespace core
