// Rolling-buffer KV cache (Mistral's RotatingBufferCache): position p lives in slot
// attn::ring_slot(p, W) = p mod W, so the cache never holds more than W tokens and the
// oldest one is overwritten. This view shows the buffer after `step` tokens were written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/scene/scene.h"

namespace core {

// One prefill chunk of chunked prefill: its queries attend to the cache as it was before the
// chunk (W slots) and to the chunk's own keys, then the chunk is written into the cache.
struct RingChunk {
  int start = 0;                  // first position
  int len = 0;                    // C, or fewer for the last chunk
  std::vector<int> slots;         // [len] slot each position of the chunk is written to
  std::vector<int> cache_before;  // [W] position held by each slot before the chunk, -1 empty
};

// Mask of one chunk: rows = the chunk's queries, cols = the W cache slots, then the chunk's
// keys. 1 = visible by attn::visible under the scene's window rule.
struct RingChunkMask {
  int chunk_index = 0;
  int start = 0;                   // position of the chunk's first query (row 0)
  int rows = 0;                    // chunk length
  int cols = 0;                    // W + chunk length
  int cache_cols = 0;              // W: columns [0, W) are slots, [W, cols) are chunk keys
  std::vector<int> col_positions;  // [cols] position each column holds, -1 empty slot
  std::vector<uint8_t> visible;    // [rows * cols]
};

struct RingState {
  int window = 0;          // W slots (the scene's window, or seq_len when it has none)
  int step = 0;            // tokens written so far: positions 0 .. step-1
  std::vector<int> slots;  // [W] position held by each slot, -1 empty
  int write_ptr = 0;       // slot that position `step` will be written to next
  int last_slot = -1;      // slot the last write (position step-1) went to, -1 before any
  int evicted = -1;        // position the last write overwrote, -1 when it filled an empty slot
  std::vector<int> unrotated_slots;      // slots oldest to newest (chronological order)
  std::vector<int> unrotated_positions;  // positions in that order: step-min(step,W) .. step-1
  int chunk = 0;                         // prefill chunk length C; 0 = no chunking
  std::vector<RingChunk> chunks;         // prefill of positions 0 .. step-1 in chunks of C (capped)
  RingChunkMask chunk_mask;              // mask of the last chunk (the one holding position step-1)
};

// Chunk lists longer than this are cut (the view cannot show more rows anyway).
inline constexpr int kRingMaxChunks = 64;

RingState build_ring_state(const Scene& scene);

// The chunk×(cache+chunk) mask of prefill chunk `chunk_index` (0-based) of the scene.
RingChunkMask build_ring_chunk_mask(const Scene& scene, int chunk_index);

// Hover text for a slot: the position it holds, whether it was just written or is next.
std::string describe_ring_slot(const RingState& r, int slot);

// Hover text for a cell of the chunk mask: the query, the slot or chunk key and its position,
// and whether (and why not) it is visible, e.g. "chunk 2, q=35; cache slot 3 holds position
// 26: masked (outside window: q-k=9 > W=8, self plus W previous)".
std::string describe_ring_chunk_cell(const core::Scene& scene, const RingChunkMask& m, int row,
                                     int col);

// The ring's window: scene.window when the scene has one, else seq_len (a full cache).
int ring_window(const Scene& scene);

}  // namespace core
