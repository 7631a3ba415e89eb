// The paged cache mode on the real model: a block table over a free list of B-token blocks
// holds the same keys as the growing cache, and the attention visits cached keys in position
// order whatever slots they sit in, so paged and full agree bit for bit, for B in {1, 7, 16},
// with and without a sliding window (whose passed blocks go back to the free list and are
// reused), with one-shot and chunked prefill.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/model/paged_cache.h"
#include "tests/unit/model_test_support.h"

namespace core::model {
namespace {

using test_support::capture_options;
using test_support::synthetic_ids;

void paged_equals_full(int block, int window, int chunk) {
  NEED_MODEL(m, "smollm2");
  const int n = 30, steps = 6;
  const std::vector<int32_t> ids = synthetic_ids(*m, n);
  ModelVariant full;
  full.window = window;
  full.chunk = chunk;
  ModelVariant paged = full;
  paged.cache = CacheMode::Paged;
  paged.block = block;
  Session a(m, capture_options(full));
  Session b(m, capture_options(paged));
  const std::string what = "B=" + std::to_string(block) + " W=" + std::to_string(window) +
                           " chunk " + std::to_string(chunk);
  std::vector<std::vector<float>> la, lb;
  la.push_back(a.prefill(ids));
  lb.push_back(b.prefill(ids));
  std::vector<int> after_prefill;
  for (const CacheCapture& cc : b.capture().cache) after_prefill.push_back(cc.n_slots);
  for (int i = 0; i < steps; ++i) {
    const auto& lg = la.back();
    const int32_t next = static_cast<int32_t>(std::max_element(lg.begin(), lg.end()) - lg.begin());
    la.push_back(a.decode(next));
    lb.push_back(b.decode(next));
  }
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) EXPECT_EQ(la[i], lb[i]) << what << " step " << i;
  const Capture &ca = a.capture(), &cb = b.capture();
  ASSERT_EQ(ca.attention.size(), cb.attention.size());
  for (size_t i = 0; i < ca.attention.size(); ++i)
    EXPECT_EQ(ca.attention[i].p, cb.attention[i].p) << what << " attention " << i;
  // The pool is whole blocks. Without a window it holds every position. With one, a call
  // writes its keys before the window's passed blocks are freed, so the pool peaks at about
  // one call's keys plus the window; decoding then reuses freed blocks and never grows it.
  const int total = n + steps, call = chunk > 0 ? chunk : n;
  for (const CacheCapture& cc : cb.cache) {
    EXPECT_EQ(cc.n_slots % block, 0) << what;
    if (window > 0) {
      const int bound = ((window + call + block - 1) / block + 2) * block;
      EXPECT_LE(cc.n_slots, bound) << what << " layer " << cc.layer;
      EXPECT_EQ(cc.n_slots, after_prefill[cc.layer]) << what << " layer " << cc.layer;
      EXPECT_LT(cc.n_slots, total) << what << " layer " << cc.layer;
    } else {
      EXPECT_EQ(cc.n_slots, (total + block - 1) / block * block) << what;
    }
  }
}

TEST(PagedForward, EqualsFullB1) {
  paged_equals_full(1, 0, 0);
}
TEST(PagedForward, EqualsFullB7) {
  paged_equals_full(7, 0, 0);
}
TEST(PagedForward, EqualsFullB16) {
  paged_equals_full(16, 0, 0);
}
TEST(PagedForward, EqualsFullB1Window) {
  paged_equals_full(1, 8, 0);
}
TEST(PagedForward, EqualsFullB7Window) {
  paged_equals_full(7, 8, 0);
}
TEST(PagedForward, EqualsFullB16Window) {
  paged_equals_full(16, 8, 0);
}
TEST(PagedForward, EqualsFullB7WindowChunked) {
  paged_equals_full(7, 8, 5);
}

// The block table by itself: in-order slots, blocks freed behind a window and reused.
TEST(PagedForward, SlotsFollowTheBlockTable) {
  PagedSlots p = paged_slots(4, 5);
  std::vector<int32_t> slot_pos;
  for (int pos = 0; pos < 40; ++pos) {
    const int slot = paged_slot(p, pos);
    slot_pos.resize(paged_slot_count(p), -1);
    slot_pos[slot] = pos;
    paged_free_behind(p, pos + 1, slot_pos.data());
    // Every position a query at pos + 1 may see (q - k <= 5) is still held.
    for (int k = std::max(0, pos + 1 - 5); k <= pos; ++k)
      EXPECT_NE(std::find(slot_pos.begin(), slot_pos.end(), k), slot_pos.end()) << pos << " " << k;
  }
  EXPECT_LE(paged_slot_count(p), 4 * 4);  // (5 + 1) / 4 blocks live, plus the one filling
  EXPECT_THROW(paged_slot(p, 99), std::logic_error);
}

}  // namespace
}  // namespace core::model
