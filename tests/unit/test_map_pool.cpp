// MapPool (core/session/map_pool.h): maps come back when their last holder lets go, the pool
// keeps at most its limit, and a holder that outlives the pool frees its maps itself.
#include <gtest/gtest.h>

#include "core/session/map_pool.h"

namespace {

using core::MapPool;
using core::model::AttentionCapture;

std::vector<AttentionCapture> maps(int count, int n) {
  std::vector<AttentionCapture> out;
  for (int h = 0; h < count; ++h)
    out.push_back({0, h, n, std::vector<float>(static_cast<size_t>(n) * (n + 1) / 2, 1.0f)});
  return out;
}

TEST(MapPool, StorageReturnsWhenTheLastHolderLetsGo) {
  auto pool = std::make_shared<MapPool>();
  pool->set_limit(8);
  std::vector<AttentionCapture> m = maps(2, 64);
  const float* storage = m[0].p.data();
  auto held = MapPool::hold(pool, std::move(m));
  auto second = held;  // a view still shows it
  held.reset();
  EXPECT_TRUE(pool->take_all().empty()) << "a holder is left";
  second.reset();
  std::vector<std::vector<float>> back = pool->take_all();
  ASSERT_EQ(back.size(), 2u);
  EXPECT_TRUE(back[0].data() == storage || back[1].data() == storage)
      << "the same buffer, not a copy";
  EXPECT_GE(back[0].capacity(), 64u * 65u / 2u);
}

TEST(MapPool, TakeGivesAnEmptyVectorWithTheReturnedCapacity) {
  auto pool = std::make_shared<MapPool>();
  pool->set_limit(1);
  EXPECT_EQ(pool->take().capacity(), 0u) << "nothing returned yet";
  pool->give(std::vector<float>(100, 2.0f));
  const std::vector<float> v = pool->take();
  EXPECT_TRUE(v.empty());
  EXPECT_GE(v.capacity(), 100u);
  EXPECT_EQ(pool->take().capacity(), 0u) << "taken once";
}

TEST(MapPool, KeepsAtMostItsLimit) {
  auto pool = std::make_shared<MapPool>();
  pool->set_limit(3);
  MapPool::hold(pool, maps(5, 16)).reset();
  EXPECT_EQ(pool->take_all().size(), 3u);
  MapPool::hold(pool, maps(2, 16)).reset();
  pool->set_limit(1);  // a lower limit frees what is over it
  EXPECT_EQ(pool->take_all().size(), 1u);
  pool->set_limit(0);
  MapPool::hold(pool, maps(2, 16)).reset();
  EXPECT_TRUE(pool->take_all().empty()) << "limit 0 keeps nothing";
}

TEST(MapPool, AHolderOutlivingThePoolFreesItsMaps) {
  auto pool = std::make_shared<MapPool>();
  pool->set_limit(4);
  core::model::Capture cap;
  cap.attention = maps(3, 32);
  auto held = MapPool::hold(pool, std::move(cap));
  pool.reset();
  EXPECT_EQ(held->attention.size(), 3u);
  EXPECT_EQ(held->attention[2].at(31, 31), 1.0f);
  held.reset();  // no pool to return to: freed (ASan checks nothing leaks or is reused)
}

}  // namespace
