#include "core/session/live_head.h"

#include <stdexcept>
#include <string>

namespace core {

LiveHeadVectors capture_head_vectors(const std::shared_ptr<const model::Model>& m,
                                     const std::vector<int32_t>& tokens, const ModelVariant& v,
                                     int layer, int head, const LiveControl& ctl) {
  const model::Config& c = m->config();
  if (layer < 0 || layer >= c.n_layers || head < 0 || head >= c.n_heads)
    throw std::invalid_argument("layer " + std::to_string(layer) + ", head " +
                                std::to_string(head) + " is outside " + c.name);
  model::RunOptions o;
  o.variant = v;
  if (o.variant.cache == CacheMode::Rolling || o.variant.cache == CacheMode::None)
    o.variant.cache = CacheMode::Full;
  o.capture.attention = true;
  o.capture.layers = {layer};
  o.capture.heads = {head};
  o.capture.cache = false;
  o.capture.vectors_layer = layer;
  o.capture.vectors_head = head;
  o.n_threads = ctl.n_threads;
  o.cancel = ctl.cancel;
  o.progress = ctl.progress;
  model::Session s(m, o);
  s.prefill(tokens);
  LiveHeadVectors out;
  out.vectors = s.capture().vectors;
  if (const model::AttentionCapture* a = s.capture().find(layer, head)) out.attention = *a;
  out.layer_mask = s.plan()[static_cast<size_t>(layer)].mask;
  out.segment_ends = s.plan()[static_cast<size_t>(layer)].segment_ends;  // packed prompts
  out.scale = c.attn_scale;
  out.tokens = tokens;
  return out;
}

}  // namespace core
