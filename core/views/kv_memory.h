// KV-cache memory against sequence length: K and V, every layer, every K/V head, per token.
// Full cache: 2 · L · n_kv · head_dim · bytes · batch · N. Rolling buffer: windowed layers
// hold min(N, W) tokens, global layers still hold N. MLA (DeepSeek-V2): one latent of d_c and
// one RoPE key of d_R per token and layer, (d_c + d_R) · L · bytes · batch · N, with the
// scene's mla.latent and mla.rope_dim.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/scene/scene.h"

namespace core {

enum class KvCurveKind { Mha, Gqa, Mqa, Rolling, Mla };

struct KvCurve {
  KvCurveKind kind = KvCurveKind::Gqa;
  std::string label;             // e.g. "GQA (8 KV heads)", "MLA (d_c 512 + d_R 64)"
  int n_kv_heads = 0;            // 0 for MLA, which caches one latent per token instead of heads
  std::vector<double> bytes;     // [x.size()] bytes at each sampled length
  int64_t bytes_at_seq_len = 0;  // exact, at the scene's seq_len and batch
};

struct KvMemorySeries {
  bool log_x = false;
  std::vector<int64_t> x;       // sampled sequence lengths, ascending (log-spaced when log_x)
  std::vector<KvCurve> curves;  // MHA, GQA (when distinct), MQA, rolling (when windowed), MLA
  int seq_len = 0;
  int64_t bytes_per_token = 0;  // current n_kv, batch 1
  int64_t bytes_full = 0;       // at seq_len, times batch
  int64_t bytes_rolling = 0;    // at seq_len, times batch; equals bytes_full without a window
  int64_t bytes_mla = 0;        // at seq_len, times batch: (mla.latent + mla.rope_dim) L bytes N
};

inline constexpr int kKvMemorySamples = 129;

KvMemorySeries build_kv_memory(const Scene& scene, int samples = kKvMemorySamples);

// All three compute in 128-bit integers and saturate at INT64_MAX (8 EiB), which the
// largest scenes in the documented ranges pass.
// Bytes of K and V per token (batch 1) with `n_kv` heads.
int64_t kv_bytes_per_token(const Scene& scene, int n_kv);

// Full-cache bytes for `tokens` tokens with `n_kv` heads, times batch.
int64_t kv_bytes_full(const Scene& scene, int64_t tokens, int n_kv);

// Rolling-buffer bytes: windowed layers hold min(tokens, W), global layers hold all tokens.
int64_t kv_bytes_rolling(const Scene& scene, int64_t tokens, int n_kv);

// MLA cache bytes for `tokens` tokens, times batch: mla_bytes_per_token (mla.h) x tokens.
int64_t kv_bytes_mla(const Scene& scene, int64_t tokens);

// "512 MiB", "128 KiB", "1.5 GiB": binary units, up to 3 significant digits.
std::string format_bytes(double bytes);

}  // namespace core
