// The rolling buffer against an explicit simulation: a write pointer that advances one slot
// per token and wraps, recording what every write overwrote.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "core/views/ring_state.h"

namespace {

struct Sim {
  std::vector<int> slots;
  int ptr = 0;
  int evicted = -1;
  int last_slot = -1;
};

Sim simulate(int w, int steps) {
  Sim s;
  s.slots.assign(w, -1);
  for (int p = 0; p < steps; ++p) {
    s.evicted = s.slots[s.ptr];
    s.slots[s.ptr] = p;
    s.last_slot = s.ptr;
    s.ptr = s.ptr + 1 == w ? 0 : s.ptr + 1;
  }
  return s;
}

core::Scene ring_scene(int w, int step, int chunk, attn::WindowConvention c) {
  core::Scene s;
  s.seq_len = 4096;
  s.window = w;
  s.step = step;
  s.chunk = chunk;
  s.window_convention = c;
  return s;
}

TEST(RingState, MatchesSimulation) {
  for (int w : {1, 2, 3, 8, 16, 33})
    for (int step = 0; step <= 3 * w + 2; ++step) {
      const core::RingState r =
          core::build_ring_state(ring_scene(w, step, 0, attn::WindowConvention::IncludingSelf));
      const Sim sim = simulate(w, step);
      ASSERT_EQ(r.slots, sim.slots) << "W=" << w << " step=" << step;
      ASSERT_EQ(r.write_ptr, sim.ptr);
      ASSERT_EQ(r.evicted, step > 0 ? sim.evicted : -1);
      ASSERT_EQ(r.last_slot, sim.last_slot);
      std::vector<int> held;
      for (int p : sim.slots)
        if (p >= 0) held.push_back(p);
      std::sort(held.begin(), held.end());
      ASSERT_EQ(r.unrotated_positions, held);
      for (size_t i = 0; i < held.size(); ++i) ASSERT_EQ(sim.slots[r.unrotated_slots[i]], held[i]);
    }
}

TEST(RingState, WorkedExample) {
  // W=4 after 6 tokens: 4 and 5 wrapped into slots 0 and 1, over 0 and 1.
  const core::RingState r =
      core::build_ring_state(ring_scene(4, 6, 0, attn::WindowConvention::IncludingSelf));
  EXPECT_EQ(r.slots, (std::vector<int>{4, 5, 2, 3}));
  EXPECT_EQ(r.write_ptr, 2);
  EXPECT_EQ(r.evicted, 1);
  EXPECT_EQ(r.unrotated_slots, (std::vector<int>{2, 3, 0, 1}));
}

TEST(RingState, ChunksAndTheirMask) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 60; ++trial) {
    const int w = 1 + static_cast<int>(rng() % 12), c = 1 + static_cast<int>(rng() % 9);
    const int step = 1 + static_cast<int>(rng() % 40);
    const auto conv = static_cast<attn::WindowConvention>(rng() % 2);
    const core::Scene s = ring_scene(w, step, c, conv);
    const core::RingState r = core::build_ring_state(s);
    const int n_chunks = (step + c - 1) / c;
    ASSERT_EQ(static_cast<int>(r.chunks.size()), std::min(n_chunks, core::kRingMaxChunks));
    for (const core::RingChunk& ch : r.chunks) {
      const Sim before = simulate(w, ch.start);
      ASSERT_EQ(ch.cache_before, before.slots);
      std::vector<int> written;
      for (int i = 0; i < ch.len; ++i) written.push_back((before.ptr + i) % w);
      ASSERT_EQ(ch.slots, written);
    }
    const core::RingChunkMask& m = r.chunk_mask;
    const int start = (n_chunks - 1) * c, len = std::min(c, step - start);
    ASSERT_EQ(m.rows, len);
    ASSERT_EQ(m.cols, w + len);
    const int max_d = conv == attn::WindowConvention::IncludingSelf ? w - 1 : w;
    const Sim cache = simulate(w, start);
    for (int i = 0; i < len; ++i) {
      const int q = start + i;
      for (int col = 0; col < m.cols; ++col) {
        const int k = col < w ? cache.slots[col] : start + (col - w);
        const bool expect = k >= 0 && k <= q && q - k <= max_d;
        ASSERT_EQ(m.visible[i * m.cols + col], expect ? 1 : 0)
            << "trial " << trial << " q=" << q << " col=" << col;
      }
    }
  }
}

TEST(RingState, NoWindowMeansFullCache) {
  core::Scene s = ring_scene(0, 10, 0, attn::WindowConvention::IncludingSelf);
  s.seq_len = 16;
  const core::RingState r = core::build_ring_state(s);
  EXPECT_EQ(r.window, 16);
  EXPECT_EQ(r.evicted, -1);
  EXPECT_EQ(r.slots[9], 9);
  EXPECT_EQ(r.slots[10], -1);
}

}  // namespace

namespace {

TEST(RingState, DescribeSlot) {
  core::Scene s;
  s.window = 4;
  s.step = 6;
  const core::RingState r = core::build_ring_state(s);
  EXPECT_EQ(core::describe_ring_slot(r, 1),
            "slot 1: position 5 (just written, evicted position 1)");
  EXPECT_EQ(core::describe_ring_slot(r, 2), "slot 2: position 2 (next write: position 6)");
  EXPECT_EQ(core::describe_ring_slot(r, 4), "");
}

}  // namespace

namespace {

TEST(RingState, DescribeChunkCell) {
  core::Scene s;
  s.window = 8;
  s.window_convention = attn::WindowConvention::SelfPlusPrevious;
  s.chunk = 6;
  s.step = 20;  // chunks at 0, 6, 12, 18; the last holds positions 18 and 19
  const core::RingState r = core::build_ring_state(s);
  const core::RingChunkMask& m = r.chunk_mask;
  ASSERT_EQ(m.start, 18);
  // Before chunk 3 the ring holds 10..17; slot 2 holds 10 (10 mod 8), 9 back from q=19.
  EXPECT_EQ(core::describe_ring_chunk_cell(s, m, 1, 2),
            "chunk 3, q=19; cache slot 2 holds position 10: masked (outside window: q-k=9 > "
            "W=8, self plus W previous)");
  EXPECT_EQ(core::describe_ring_chunk_cell(s, m, 0, 8 + 1),
            "chunk 3, q=18; chunk key 1 holds position 19: masked (future: k > q)");
}

}  // namespace
