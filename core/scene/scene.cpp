#include "core/scene/scene.h"

namespace core {

int dtype_bytes(Dtype d) {
  switch (d) {
    case Dtype::FP32:
      return 4;
    case Dtype::FP16:
      return 2;
    case Dtype::BF16:
      return 2;
    case Dtype::FP8:
      return 1;
  }
  return 4;
}

const char* dtype_name(Dtype d) {
  switch (d) {
    case Dtype::FP32:
      return "fp32";
    case Dtype::FP16:
      return "fp16";
    case Dtype::BF16:
      return "bf16";
    case Dtype::FP8:
      return "fp8";
  }
  return "fp32";
}

const char* mask_kind_name(attn::MaskKind k) {
  switch (k) {
    case attn::MaskKind::Causal:
      return "causal";
    case attn::MaskKind::SlidingWindow:
      return "sliding_window";
    case attn::MaskKind::Chunked:
      return "chunked";
    case attn::MaskKind::BlockDiagonal:
      return "block_diagonal";
    case attn::MaskKind::Sparse:
      return "sparse";
  }
  return "causal";
}

const char* window_convention_name(attn::WindowConvention c) {
  return c == attn::WindowConvention::IncludingSelf ? "including_self" : "self_plus_previous";
}

attn::MaskSpec mask_spec(const Scene& s, std::vector<int32_t>& segment_ends) {
  segment_ends.clear();
  int32_t end = 0;
  for (int len : s.segments) segment_ends.push_back(end += len);
  attn::MaskSpec m;
  m.kind = s.mask;
  m.window = (s.mask == attn::MaskKind::Causal || s.mask == attn::MaskKind::Sparse) ? 0 : s.window;
  m.convention = s.window_convention;
  m.chunk = s.chunk;
  m.segment_ends = segment_ends.data();
  m.n_segments = static_cast<int32_t>(segment_ends.size());
  m.sparse_global = s.sparse.global;
  m.sparse_local = s.sparse.local;
  m.sparse_random = s.sparse.random;
  m.sparse_seed = s.sparse.seed;
  return m;
}

}  // namespace core
