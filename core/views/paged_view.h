// PagedAttention view: several sequences decoding together map through a block table onto
// physical blocks of B tokens. Shows the block table, the internal fragmentation (the unused
// slots of each sequence's last block), utilisation against reserving every sequence's
// maximum length up front, and prefix sharing with reference counts and copy-on-write.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/attention/paged_blocks.h"
#include "core/scene/scene.h"

namespace core {

// Closed forms for n sequences of lengths L_i that share their first P tokens (P = 0: none).
// S = floor(P / B) prompt blocks are shared by all; the prompt's partial block (P mod B
// tokens) is shared until a sequence writes into it: each writer copies it, except that when
// every sequence writes, the last writer finds itself alone and writes in place.
struct PagedCounts {
  int64_t blocks_used = 0;      // physical blocks held
  int64_t tokens_stored = 0;    // filled slots (a copied prompt block counts in every copy)
  int64_t slots_wasted = 0;     // blocks_used * B - tokens_stored
  int64_t cow_copies = 0;       // copy-on-write copies
  int64_t blocks_unshared = 0;  // sum ceil(L_i / B): the same sequences without sharing
};
PagedCounts paged_counts(const std::vector<int>& lengths, int block, int prefix);

struct PagedView {
  int block = 0;
  int max_len = 0;  // what contiguous allocation reserves per sequence: seq_len (the context a
                    // sequence may grow to), or the longest sequence when that is longer
  int prefix = 0;
  std::vector<int> lengths;
  PagedBlocks blocks;  // the block table after the run, from the allocator itself
  PagedCounts counts;
  int64_t bytes_per_token = 0;        // K and V, every layer (kv_bytes_per_token at n_kv_heads)
  int64_t bytes_used = 0;             // blocks_used * B * bytes_per_token
  int64_t bytes_wasted = 0;           // slots_wasted * bytes_per_token
  double utilisation = 0;             // tokens_stored / (blocks_used * B)
  int64_t contiguous_slots = 0;       // n * max_len
  double contiguous_utilisation = 0;  // sum L_i / contiguous_slots
};

// Runs the scene's sequences through the allocator: sequence 0 takes the shared prompt, the
// others fork from it, then every sequence appends one token per round (as concurrent decode
// does, so physical blocks interleave) until it reaches its length.
PagedView build_paged_view(const Scene& scene);

// Hover text of logical block `logical` of sequence `seq` (the block table): the physical
// block it maps to, the sequence's tokens it holds, its fill and reference count. "" outside.
std::string describe_paged_logical(const PagedView& v, int seq, int logical);
// Hover text of physical block `phys` (the pool): fill, reference count, who holds it.
std::string describe_paged_physical(const PagedView& v, int phys);

}  // namespace core
