// CPU attention for decode steps and chunks of fewer than kPrefillMinQueries queries: for each
// query and KV head, the g query heads that read that head walk the query's visible keys
// together, decode::kKeys at a time (cpu_decode_kernels.h), so each K and V row is read once
// per group. The visible keys are listed in position order first and tiles are cut from that
// list, so a ring and a growing cache holding the same keys agree bit for bit. Rows with more
// than kSplitKeys keys are cut into parts of that many, each an online softmax of its own,
// merged at the end (flash-decoding's split-K); the parts are fixed by the key count, not the
// threads, so the bits depend neither on the thread count nor on the instruction set.
#pragma once

#include "core/attention/backend.h"

namespace core {

// Keys one part of a row holds (a multiple of decode::kKeys).
constexpr int kSplitKeys = 128;

// Computes the call on the calling thread plus up to n_threads-1 helpers: the parts go to
// call.parallel when the call lends threads, else to threads started here when the work pays.
void cpu_attention_decode(const AttentionCall& call, int n_threads);

}  // namespace core
