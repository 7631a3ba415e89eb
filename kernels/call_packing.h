// What the CUDA backend and the kernel emulator share around the kernel: checking that a call
// fits the kernel, turning a core::AttentionCall into AttentionParams, and packing the
// captured probability rows (an array of host row pointers) into one buffer and back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/attention/backend.h"
#include "kernels/attention_block.h"

namespace kernels {

// Captured rows packed back to back: offset[t * n_heads + h] is where row (t, h) starts in
// the packed buffer (q_pos[t] + 1 floats), -1 when that row is not captured.
struct PackedCapture {
  std::vector<int64_t> offset;  // [n_q * n_heads], empty when nothing is captured
  int64_t total = 0;            // floats in the packed buffer
};

PackedCapture pack_capture(const core::AttentionCall& c);

// Copies each packed row to the caller's row pointer.
void unpack_capture(const core::AttentionCall& c, const PackedCapture& pc, const float* probs);

// Why the kernel cannot run this call (empty when it can): the CPU backend takes it instead.
std::string kernel_unsupported_reason(const core::AttentionCall& c);

// The call's pointers as they are (host memory); CudaBackend swaps in device copies.
AttentionParams params_from_call(const core::AttentionCall& c);

}  // namespace kernels
