// PagedAttention's block table (Kwon et al. 2023, vLLM): each sequence's tokens live in
// fixed-size physical blocks taken from a free list; a per-sequence table maps logical block
// i to its physical block. Forked sequences (parallel sampling, beam search) share blocks by
// reference count, and a write into a shared block copies it first (copy-on-write).
#pragma once

#include <cstdint>
#include <vector>

namespace core {

struct PagedBlocks {
  int block = 16;                        // tokens per block, B
  std::vector<int> ref;                  // [physical] reference count, 0 = free
  std::vector<int> fill;                 // [physical] tokens written into the block
  std::vector<int> free_list;            // free physical ids; the next allocation takes back()
  std::vector<std::vector<int>> tables;  // [sequence][logical block] physical id
  std::vector<int> lengths;              // [sequence] tokens
  int64_t copies = 0;                    // copy-on-write copies made
};

// Where one appended token went.
struct PagedSlot {
  int physical = 0;      // block
  int offset = 0;        // slot inside it
  int copied_from = -1;  // the shared block copied first (copy-on-write), or -1
};

PagedBlocks paged_blocks(int block);

// A new, empty sequence; returns its index.
int paged_new_sequence(PagedBlocks& p);

// A new sequence sharing every block of `parent` (reference counts go up); returns its index.
int paged_fork(PagedBlocks& p, int parent);

// Appends one token to sequence `seq`: a fresh block from the free list when the last one is
// full, a private copy first when the last one is shared.
PagedSlot paged_append(PagedBlocks& p, int seq);

// Drops logical block `logical` of sequence `seq` (a sliding window has moved past it): its
// count goes down, a block nobody holds returns to the free list, and the table entry
// becomes -1. Never the sequence's last block, which the next append writes into.
void paged_release_block(PagedBlocks& p, int seq, int logical);

// Drops a sequence: its blocks' counts go down and blocks nobody holds return to the free list.
void paged_release(PagedBlocks& p, int seq);

int64_t paged_blocks_in_use(const PagedBlocks& p);  // physical blocks with ref > 0
int64_t paged_tokens_stored(const PagedBlocks& p);  // filled slots of those blocks

}  // namespace core
