#include "core/session/map_pool.h"

#include <utility>

namespace core {

std::vector<float> MapPool::take() {
  std::lock_guard<std::mutex> lk(mu_);
  if (free_.empty()) return {};
  std::vector<float> v = std::move(free_.back());
  free_.pop_back();
  v.clear();
  return v;
}

std::vector<std::vector<float>> MapPool::take_all() {
  std::lock_guard<std::mutex> lk(mu_);
  return std::exchange(free_, {});
}

void MapPool::give(std::vector<float>&& v) {
  if (v.capacity() == 0) return;
  std::vector<float> drop;  // freed outside the lock
  std::lock_guard<std::mutex> lk(mu_);
  if (free_.size() < limit_)
    free_.push_back(std::move(v));
  else
    drop = std::move(v);
}

void MapPool::set_limit(size_t buffers) {
  std::lock_guard<std::mutex> lk(mu_);
  limit_ = buffers;
  if (free_.size() > limit_) free_.resize(limit_);
}

void MapPool::give_maps(std::vector<model::AttentionCapture>& maps) {
  for (model::AttentionCapture& a : maps) give(std::move(a.p));
}

std::shared_ptr<const std::vector<model::AttentionCapture>> MapPool::hold(
    const std::shared_ptr<MapPool>& pool, std::vector<model::AttentionCapture>&& maps) {
  auto* held = new std::vector<model::AttentionCapture>(std::move(maps));
  return std::shared_ptr<const std::vector<model::AttentionCapture>>(
      held, [w = std::weak_ptr<MapPool>(pool)](std::vector<model::AttentionCapture>* m) {
        if (auto pl = w.lock()) pl->give_maps(*m);
        delete m;
      });
}

std::shared_ptr<const model::Capture> MapPool::hold(const std::shared_ptr<MapPool>& pool,
                                                    model::Capture&& cap) {
  auto* held = new model::Capture(std::move(cap));
  return std::shared_ptr<const model::Capture>(
      held, [w = std::weak_ptr<MapPool>(pool)](model::Capture* c) {
        if (auto pl = w.lock()) pl->give_maps(c->attention);
        delete c;
      });
}

}  // namespace core
