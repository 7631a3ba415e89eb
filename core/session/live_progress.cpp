#include "core/session/live_progress.h"

#include <algorithm>
#include <cmath>

#include "core/session/live_thumbs.h"

namespace core {

PartialPassBuilder::PartialPassBuilder(LivePass head, const model::Config& c)
    : pass_(std::move(head)), config_(c) {
  pass_.capture.reset();
  pass_.thumbs.reset();
  pass_.layer_parts.clear();
  pass_.layers_done = 0;
  // Layers not computed yet show as empty thumbnails (NaN), like cells the mask hides.
  thumbs_ = build_attention_thumbs(pass_, nullptr, c, kLiveThumbCells);
}

bool PartialPassBuilder::take(int layer, const model::Capture& cap,
                              std::shared_ptr<const std::vector<model::AttentionCapture>> heads) {
  if (layer != pass_.layers_done) return false;  // only in order
  pass_.layer_parts.push_back(std::move(heads));
  pass_.layers_done = layer + 1;
  std::vector<std::vector<float>> t =
      layer_thumbs(cap, layer, config_.n_heads, static_cast<int>(pass_.tokens.size()),
                   pass_.plan[layer].mask, kLiveThumbCells);
  for (int h = 0; h < config_.n_heads; ++h)
    thumbs_.maps[static_cast<size_t>(layer) * config_.n_heads + h] = std::move(t[h]);
  return true;
}

std::shared_ptr<const LivePass> PartialPassBuilder::partial() const {
  auto out = std::make_shared<LivePass>(pass_);
  out->thumbs = thumbs();
  return out;
}

std::shared_ptr<const LivePass> PartialPassBuilder::add(
    int layer, const model::Capture& cap,
    std::shared_ptr<const std::vector<model::AttentionCapture>> heads) {
  return add_at_most_every(0, layer, cap, std::move(heads));
}

std::shared_ptr<const LivePass> PartialPassBuilder::add_at_most_every(
    double every_ms, int layer, const model::Capture& cap,
    std::shared_ptr<const std::vector<model::AttentionCapture>> heads) {
  if (!take(layer, cap, std::move(heads))) return nullptr;
  const auto now = std::chrono::steady_clock::now();
  if (layer > 0 && std::chrono::duration<double, std::milli>(now - last_built_).count() < every_ms)
    return nullptr;
  last_built_ = now;
  return partial();
}

std::shared_ptr<const AttentionThumbs> PartialPassBuilder::thumbs() const {
  return std::make_shared<AttentionThumbs>(thumbs_);
}

std::shared_ptr<const DraftDelta> draft_delta(const LivePass& draft, const LivePass& exact,
                                              const model::Config& c) {
  if (!draft.capture || !exact.capture || draft.tokens != exact.tokens ||
      !(draft.variant == exact.variant))
    return nullptr;
  auto d = std::make_shared<DraftDelta>();
  d->n_layers = c.n_layers;
  d->n_heads = c.n_heads;
  d->max_dp.assign(static_cast<size_t>(c.n_layers) * c.n_heads, 0.0f);
  for (const model::AttentionCapture& a : exact.capture->attention) {
    const model::AttentionCapture* b = draft.capture->find(a.layer, a.head);
    if (!b || b->p.size() != a.p.size()) continue;
    float m = 0;
    for (size_t i = 0; i < a.p.size(); ++i) m = std::max(m, std::fabs(a.p[i] - b->p[i]));
    d->max_dp[static_cast<size_t>(a.layer) * c.n_heads + a.head] = m;
    d->overall = std::max(d->overall, m);
  }
  return d;
}

}  // namespace core
