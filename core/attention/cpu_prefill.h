// Tiled CPU attention for prefill chunks (FlashAttention's loop order on the CPU): the rows of a
// block of queries that share a KV head walk the keys some query of the block can see, kKeys at
// a time, with an online softmax per row. Only the keys the mask leaves visible to the block
// are read, so a sliding window costs N·W, not N². Same numbers as the per-row path up to
// float32 summation order; the bits do not depend on the instruction set or the thread count.
#pragma once

#include "core/attention/backend.h"

namespace core {

// Below this many queries the per-row path is as fast (decode steps, tiny chunks).
constexpr int kPrefillMinQueries = 16;

// Computes the call on the calling thread plus up to n_threads-1 helpers.
void cpu_attention_prefill(const AttentionCall& call, int n_threads);

}  // namespace core
