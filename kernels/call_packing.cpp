#include "kernels/call_packing.h"

#include <algorithm>

namespace kernels {

PackedCapture pack_capture(const core::AttentionCall& c) {
  PackedCapture pc;
  if (!c.prob_rows) return pc;
  const int rows = c.n_q * c.n_heads;
  pc.offset.assign(rows, -1);
  for (int r = 0; r < rows; ++r) {
    if (!c.prob_rows[r]) continue;
    pc.offset[r] = pc.total;
    pc.total += c.q_pos[r / c.n_heads] + 1;
  }
  if (pc.total == 0) pc.offset.clear();
  return pc;
}

void unpack_capture(const core::AttentionCall& c, const PackedCapture& pc, const float* probs) {
  for (size_t r = 0; r < pc.offset.size(); ++r) {
    if (pc.offset[r] < 0) continue;
    const int len = c.q_pos[r / c.n_heads] + 1;
    std::copy(probs + pc.offset[r], probs + pc.offset[r] + len, c.prob_rows[r]);
  }
}

std::string kernel_unsupported_reason(const core::AttentionCall& c) {
  if (c.head_dim > kMaxHeadDim)
    return "head_dim " + std::to_string(c.head_dim) + " > " + std::to_string(kMaxHeadDim);
  if (c.n_kv_heads <= 0 || c.n_heads % c.n_kv_heads != 0)
    return "n_heads " + std::to_string(c.n_heads) + " is not a multiple of n_kv_heads " +
           std::to_string(c.n_kv_heads);
  if (c.n_heads / c.n_kv_heads > kMaxThreadsPerBlock)
    return "GQA group of " + std::to_string(c.n_heads / c.n_kv_heads) + " query heads > " +
           std::to_string(kMaxThreadsPerBlock) + " threads per block";
  return {};
}

AttentionParams params_from_call(const core::AttentionCall& c) {
  AttentionParams p;
  p.n_q = c.n_q;
  p.n_heads = c.n_heads;
  p.n_kv_heads = c.n_kv_heads;
  p.head_dim = c.head_dim;
  p.scale = c.scale;
  p.mask = c.mask;
  p.q_pos = c.q_pos;
  p.q = c.q;
  p.k_new = c.k_new;
  p.v_new = c.v_new;
  p.n_slots = c.n_slots;
  p.slot_pos = c.slot_pos;
  p.k_cache = c.k_cache;
  p.v_cache = c.v_cache;
  p.out = c.out;
  return p;
}

}  // namespace kernels
