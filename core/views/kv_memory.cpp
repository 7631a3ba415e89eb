#include "core/views/kv_memory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/views/head_groups.h"
#include "core/views/mla.h"

namespace core {
namespace {

// The memory view follows the model's window and global layers, whatever mask kind the mask
// view is set to: the cache layout is a property of the model.
int windowed_layers(const Scene& s) {
  if (s.window <= 0) return 0;
  if (s.global_every <= 0) return s.n_layers;
  return s.n_layers - s.n_layers / s.global_every;
}

std::string kv_label(const Scene& s, KvCurveKind kind, int n_kv) {
  const bool current = n_kv == s.n_kv_heads && kind != KvCurveKind::Rolling;
  std::string label;
  switch (kind) {
    case KvCurveKind::Mha:
      label = "MHA";
      break;
    case KvCurveKind::Gqa:
      label = "GQA";
      break;
    case KvCurveKind::Mqa:
      label = "MQA";
      break;
    case KvCurveKind::Rolling:
      label = "rolling buffer W=" + std::to_string(s.window);
      break;
    case KvCurveKind::Mla:
      return "MLA (d_c " + std::to_string(s.mla.latent) + " + d_R " +
             std::to_string(s.mla.rope_dim) + ")";
  }
  label += " (" + std::to_string(n_kv) + (n_kv == 1 ? " KV head" : " KV heads");
  return label + (current ? ", current)" : ")");
}

// The scene ranges reach 2^72 bytes (1024 layers x 1024 heads x 4096 dims x 4 bytes x batch
// 65536 x 2^21 tokens), so products are taken in 128 bits and saturate at INT64_MAX (8 EiB).
using Wide = __int128;
int64_t saturate(Wide v) {
  return v > Wide{INT64_MAX} ? INT64_MAX : static_cast<int64_t>(v);
}

}  // namespace

int64_t kv_bytes_per_token(const Scene& s, int n_kv) {
  return saturate(Wide{2} * s.n_layers * n_kv * s.head_dim * dtype_bytes(s.dtype));
}

int64_t kv_bytes_full(const Scene& s, int64_t tokens, int n_kv) {
  return saturate(Wide{2} * s.n_layers * n_kv * s.head_dim * dtype_bytes(s.dtype) * tokens *
                  s.batch);
}

int64_t kv_bytes_rolling(const Scene& s, int64_t tokens, int n_kv) {
  const Wide per_layer_token = Wide{2} * n_kv * s.head_dim * dtype_bytes(s.dtype);
  const Wide local = windowed_layers(s);
  const Wide global = s.n_layers - local;
  const Wide held = s.window > 0 ? std::min<int64_t>(tokens, s.window) : tokens;
  return saturate(per_layer_token * (local * held + global * tokens) * s.batch);
}

int64_t kv_bytes_mla(const Scene& s, int64_t tokens) {
  return saturate(Wide{mla_bytes_per_token(s)} * tokens * s.batch);
}

KvMemorySeries build_kv_memory(const Scene& s, int samples) {
  KvMemorySeries m;
  m.log_x = s.log_scale;
  m.seq_len = s.seq_len;
  m.bytes_per_token = kv_bytes_per_token(s, s.n_kv_heads);
  m.bytes_full = kv_bytes_full(s, s.seq_len, s.n_kv_heads);
  m.bytes_rolling = kv_bytes_rolling(s, s.seq_len, s.n_kv_heads);
  m.bytes_mla = kv_bytes_mla(s, s.seq_len);

  const int64_t x_max = std::max<int64_t>({2LL * s.seq_len, 2LL * s.window, 16});
  samples = std::max(2, samples);
  for (int i = 0; i < samples; ++i) {
    const double t = static_cast<double>(i) / (samples - 1);
    const double x = m.log_x ? std::pow(static_cast<double>(x_max), t) : t * x_max;
    m.x.push_back(static_cast<int64_t>(std::llround(x)));
  }
  // The seq_len mark and the rolling buffer's kink fall exactly on samples.
  m.x.push_back(s.seq_len);
  if (s.window > 0) m.x.push_back(s.window);
  std::sort(m.x.begin(), m.x.end());
  m.x.erase(std::unique(m.x.begin(), m.x.end()), m.x.end());

  std::vector<std::pair<KvCurveKind, int>> kinds = {{KvCurveKind::Mha, s.n_heads}};
  if (s.n_kv_heads != s.n_heads && s.n_kv_heads != 1)
    kinds.push_back({KvCurveKind::Gqa, s.n_kv_heads});
  if (s.n_heads != 1) kinds.push_back({KvCurveKind::Mqa, 1});
  if (s.window > 0) kinds.push_back({KvCurveKind::Rolling, s.n_kv_heads});
  kinds.push_back({KvCurveKind::Mla, 0});
  for (const auto& [kind, n_kv] : kinds) {
    KvCurve c;
    c.kind = kind;
    c.n_kv_heads = n_kv;
    c.label = kv_label(s, kind, n_kv);
    auto bytes = [&, kind = kind, n_kv = n_kv](int64_t x) {
      return kind == KvCurveKind::Rolling ? kv_bytes_rolling(s, x, n_kv)
             : kind == KvCurveKind::Mla   ? kv_bytes_mla(s, x)
                                          : kv_bytes_full(s, x, n_kv);
    };
    for (int64_t x : m.x) c.bytes.push_back(static_cast<double>(bytes(x)));
    c.bytes_at_seq_len = bytes(s.seq_len);
    m.curves.push_back(std::move(c));
  }
  return m;
}

std::string format_bytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (std::fabs(bytes) >= 1024.0 && u < 6) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[48];
  if (u == 0 || std::fabs(bytes) >= 100.0 || bytes == std::floor(bytes))
    std::snprintf(buf, sizeof buf, "%.0f %s", bytes, kUnits[u]);
  else if (std::fabs(bytes) >= 10.0)
    std::snprintf(buf, sizeof buf, "%.1f %s", bytes, kUnits[u]);
  else
    std::snprintf(buf, sizeof buf, "%.2f %s", bytes, kUnits[u]);
  return buf;
}

}  // namespace core
