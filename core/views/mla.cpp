#include "core/views/mla.h"

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

}  // namespace core
