// Blocked CPU attention for prefill chunks: per head and block of queries, scores come from one
// sgemm (Q·Kᵀ), the masked softmax runs row by row (spec.h decides visibility), and the output
// from a second sgemm (P·V). Same numbers as the per-row path up to float32 summation order.
#pragma once

#include <cstdint>
#include <vector>

#include "core/attention/backend.h"

namespace core {

// Buffers the blocked path reuses between calls; one per backend, never shared across threads.
struct PrefillScratch {
  std::vector<float> scores;      // [n_heads, bq, n_cols] scaled scores, then probabilities
  std::vector<float> k, v;        // [n_sel, kv_dim] cache slots some query of the block sees
  std::vector<float> inv_sum;     // [n_heads, bq] 1 / softmax sum (0 for a row with no key)
  std::vector<float> valid;       // [bq, n_cols] 1 where query t may see column c, else 0
  std::vector<int32_t> sel_slot;  // [n_sel] cache slot of each gathered column, by position
  std::vector<int32_t> col_pos;   // [n_cols] position of each column's key
};

// Below this many queries the per-row path is as fast (decode steps, tiny chunks).
constexpr int kPrefillMinQueries = 16;

// Computes the call on the calling thread (softmax rows on up to n_threads threads; the
// sgemms thread as OpenBLAS is set to).
void cpu_attention_prefill(const AttentionCall& call, int n_threads, PrefillScratch& scratch);

}  // namespace core
