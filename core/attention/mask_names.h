// The name each mask kind of spec.h has in xformers (xformers.ops.fmha.attn_bias), as
// Mistral's reference code (mistral-inference, cache.py) uses them: a first prefill of packed
// prompts is a BlockDiagonalCausalMask (made local by a sliding window), a chunk or decode
// step against the cache a BlockDiagonalCausalWithOffsetPaddedKeysMask. Host-only; every
// label (mask view, live view, `attnlab stats` key mask.xformers) comes from here.
//
//   Causal                     LowerTriangularMask
//   SlidingWindow              LowerTriangularFromBottomRightLocalAttentionMask
//   BlockDiagonal              BlockDiagonalCausalMask
//   BlockDiagonal + window     BlockDiagonalCausalLocalAttentionMask
//   Chunked                    BlockDiagonalCausalWithOffsetPaddedKeysMask
//   Sparse                     "" (xformers has no bias for it)
#pragma once

#include "core/attention/spec.h"

namespace attn {

const char* xformers_mask_name(const MaskSpec& m);

}  // namespace attn
