#include "core/views/mla.h"

#include <cstdio>

#include "core/views/kv_memory.h"

namespace core {

int64_t mla_bytes_per_token(const Scene& s) {
  return (static_cast<int64_t>(s.mla.latent) + s.mla.rope_dim) * s.n_layers * dtype_bytes(s.dtype);
}

MlaCosts build_mla_costs(const Scene& s) {
  MlaCosts c;
  c.n_layers = s.n_layers;
  c.n_heads = s.n_heads;
  c.head_dim = s.head_dim;
  c.latent = s.mla.latent;
  c.rope_dim = s.mla.rope_dim;
  c.n_kv_heads = s.n_kv_heads;
  c.elem_bytes = dtype_bytes(s.dtype);
  c.context = s.seq_len;
  const int64_t l = c.n_layers, nh = c.n_heads, dh = c.head_dim, dc = c.latent, dr = c.rope_dim;
  const int64_t e = c.elem_bytes, t = c.context;
  c.bytes_per_token_mla = mla_bytes_per_token(s);
  c.bytes_per_token_mha = 2 * nh * dh * l * e;
  c.bytes_per_token_gqa = 2 * c.n_kv_heads * dh * l * e;
  c.bytes_per_token_mqa = 2 * dh * l * e;
  const int64_t mac_plain = 2 * t * nh * dh * dc + t * nh * (dh + dr) + t * nh * dh;
  const int64_t mac_absorbed = nh * dh * dc + t * nh * (dc + dr) + t * nh * dc + nh * dc * dh;
  c.flops_plain = 2 * mac_plain;
  c.flops_absorbed = 2 * mac_absorbed;
  const int64_t shared = t * (dc + dr) + 2 * nh * dh * dc;
  c.bytes_absorbed = shared * e;
  c.bytes_plain = (shared + 2 * t * nh * 2 * dh) * e;
  return c;
}

namespace {

std::string n(int64_t v) {
  return std::to_string(v);
}

// "1024 B (1.0 KiB)": exact bytes for checking, readable bytes for reading.
std::string bytes(int64_t v) {
  return n(v) + " B (" + format_bytes(static_cast<double>(v)) + ")";
}

// "293601280 FLOP (294 MFLOP)".
std::string flop(int64_t v) {
  const char* unit[] = {"", "k", "M", "G", "T", "P"};
  double x = static_cast<double>(v);
  int u = 0;
  for (; x >= 1000 && u < 5; ++u) x /= 1000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g %sFLOP", x, unit[u]);
  return n(v) + " FLOP (" + buf + ")";
}

// A cache bar: `values` per token per layer, times layers and element bytes.
std::string cache_line(const MlaCosts& c, const std::string& what, const std::string& formula,
                       int64_t values) {
  return what + ": " + formula + " = " + n(values) + " values per token per layer\nx " +
         n(c.n_layers) + " layers x " + n(c.elem_bytes) +
         " B = " + bytes(values * c.n_layers * c.elem_bytes) + " per token";
}

// A box of the flow: `values` per token per layer, cached or recomputed.
std::string node_line(const MlaCosts& c, const std::string& what, int64_t values, bool cached) {
  const int64_t per_layer = values * c.elem_bytes;
  return what + ": " + n(values) + " values per token per layer = " + bytes(per_layer) + "\n" +
         (cached ? "cached: " + bytes(per_layer * c.n_layers) + " per token over " + n(c.n_layers) +
                       " layers"
                 : "recomputed from the cache, never stored");
}

}  // namespace

std::string describe_mla_item(const MlaCosts& c, int item, int d_model) {
  const int64_t nh = c.n_heads, dh = c.head_dim, dc = c.latent, dr = c.rope_dim;
  const std::string step = "one decode step, one layer, " + n(c.context) + " cached tokens: ";
  switch (static_cast<MlaItem>(item)) {
    case MlaItem::CacheMha:
      return cache_line(c, "MHA", "K and V of " + n(nh) + " heads, 2 x " + n(nh) + " x " + n(dh),
                        2 * nh * dh);
    case MlaItem::CacheGqa:
      return cache_line(
          c, "GQA",
          "K and V of " + n(c.n_kv_heads) + " groups, 2 x " + n(c.n_kv_heads) + " x " + n(dh),
          2 * c.n_kv_heads * dh);
    case MlaItem::CacheMqa:
      return cache_line(c, "MQA", "one K and one V, 2 x " + n(dh), 2 * dh);
    case MlaItem::CacheMla:
      return cache_line(c, "MLA", "latent c_KV + RoPE key k_R, " + n(dc) + " + " + n(dr), dc + dr);
    case MlaItem::Hidden:
      return node_line(c, "h_t, the token's hidden state (d_model " + n(d_model) + ")", d_model,
                       false);
    case MlaItem::Latent:
      return node_line(c, "c_KV = W_DKV h_t, the latent (d_c " + n(dc) + ")", dc, true);
    case MlaItem::RopeKey:
      return node_line(c, "k_R = RoPE(W_KR h_t), one key for all heads (d_R " + n(dr) + ")", dr,
                       true);
    case MlaItem::Keys:
      return node_line(c, "k_C = W_UK c_KV, the heads' keys (" + n(nh) + " x " + n(dh) + ")",
                       nh * dh, false);
    case MlaItem::Values:
      return node_line(c, "v_C = W_UV c_KV, the heads' values (" + n(nh) + " x " + n(dh) + ")",
                       nh * dh, false);
    case MlaItem::FlopsPlain:
      return step + flop(c.flops_plain) + " up-projecting every cached latent to K and V";
    case MlaItem::FlopsAbsorbed:
      return step + flop(c.flops_absorbed) + " with W_UK and W_UV absorbed";
    case MlaItem::BytesPlain:
      return step + bytes(c.bytes_plain) + " read and written up-projecting K and V";
    case MlaItem::BytesAbsorbed:
      return step + bytes(c.bytes_absorbed) + " read and written with W_UK and W_UV absorbed";
  }
  return "";
}

}  // namespace core
