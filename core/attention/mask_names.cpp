#include "core/attention/mask_names.h"

namespace attn {

const char* xformers_mask_name(const MaskSpec& m) {
  switch (m.kind) {
    case MaskKind::Causal:
      return "LowerTriangularMask";
    case MaskKind::SlidingWindow:
      return m.window > 0 ? "LowerTriangularFromBottomRightLocalAttentionMask"
                          : "LowerTriangularMask";
    case MaskKind::BlockDiagonal:
      return m.window > 0 ? "BlockDiagonalCausalLocalAttentionMask" : "BlockDiagonalCausalMask";
    case MaskKind::Chunked:
      // A chunk's queries against the keys the cache holds: xformers' offset-padded-keys
      // mask, causal with the chunk's offset into the sequence.
      return "BlockDiagonalCausalWithOffsetPaddedKeysMask";
    case MaskKind::Sparse:
      return "";
  }
  return "";
}

}  // namespace attn
