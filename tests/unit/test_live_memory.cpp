// The live KV-memory view on the real model: right after the prompt's pass (before any
// generation step) it shows the cache that pass left, and with a paged cache its block
// numbers are those of the runtime's block tables (counted here from the tables themselves
// and by hand: ceil(N / B) blocks per layer, the last one partly empty), also step by step
// during the generation. Skips when SmolLM2 is not downloaded.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/figure/theme.h"
#include "core/figure/view_registry.h"
#include "core/session/session.h"
#include "core/views/live_memory.h"

namespace {

constexpr double kTimeout = 300;

core::Scene memory_scene() {
  core::Scene s;
  s.model = "smollm2";
  s.prompt = "The capital of France is Paris. The capital of Italy is Rome. The capital of";
  s.mask = attn::MaskKind::Causal;
  s.window = 8;  // the ring generation's W
  s.view = "live_memory";
  return s;
}

// Blocks a layer's table points at, counted from the table: distinct physical ids >= 0.
int64_t table_blocks(const core::model::CacheCapture& cc) {
  std::set<int> ids;
  for (int b : cc.block_table)
    if (b >= 0) ids.insert(b);
  return static_cast<int64_t>(ids.size());
}

bool have_smollm2() {
  return std::filesystem::exists(core::model::resolve_model_path("smollm2"));
}

// Without a model: a pass of 10 tokens over 2 layers of 3 K/V heads x 8 dims, paged in
// blocks of 7 (2 blocks per layer, 4 empty slots in each last block), worked by hand.
TEST(LiveMemory, PassPointAndBlocksFromAHandMadeResult) {
  core::LiveResult r;
  core::model::Config c;
  c.n_layers = 2;
  c.head_dim = 8;
  r.config = c;
  auto pass = std::make_shared<core::LivePass>();
  pass->tokens.assign(10, 1);
  pass->kv_heads = 3;
  auto cap = std::make_shared<core::model::Capture>();
  for (int l = 0; l < 2; ++l) {
    core::model::CacheCapture cc;
    cc.layer = l;
    cc.n_slots = 14;
    cc.n_kv_heads = 3;
    cc.slot_pos.assign(14, -1);
    for (int p = 0; p < 10; ++p) cc.slot_pos[l == 0 ? p : 13 - p] = p;  // any slots will do
    cc.bytes = 14 * 3 * 8 * 2 * 4;
    cc.block = 7;
    cc.block_table = {l, 1 - l};
    cc.pool_blocks = 2;
    cc.blocks_in_use = 2;
    cc.tokens_in_blocks = 10;
    cap->cache_bytes += cc.bytes;
    cap->cache.push_back(cc);
  }
  pass->capture = cap;
  core::LiveMemory m = core::build_live_memory(r);
  EXPECT_EQ(m.verdict, "running the forward pass...");
  r.pass = pass;
  m = core::build_live_memory(r);
  ASSERT_TRUE(m.from_pass);
  ASSERT_EQ(m.n, std::vector<int>{10});
  EXPECT_EQ(m.full_held[0], 10.0 * 2 * 3 * 8 * 2 * 4);  // 3,840 bytes
  EXPECT_EQ(m.full_alloc[0], 2.0 * 14 * 3 * 8 * 2 * 4);
  EXPECT_TRUE(m.theory_matches);
  EXPECT_EQ(m.block, 7);
  EXPECT_EQ(m.block_bytes, 7 * 3 * 8 * 2 * 4);  // 1,344
  EXPECT_EQ(m.paged_blocks, std::vector<int64_t>{4});
  EXPECT_EQ(m.paged_empty_slots, std::vector<int64_t>{8});
  EXPECT_EQ(m.paged_alloc, std::vector<double>{4.0 * 1344});
  EXPECT_EQ(m.paged_fragment, std::vector<double>{8.0 * 3 * 8 * 2 * 4});
  EXPECT_EQ(m.paged_line.rfind("paged B=7 (block table): 4 blocks", 0), 0u) << m.paged_line;
}

TEST(LiveMemory, ShowsThePromptsCacheBeforeAnyStep) {
  if (!have_smollm2()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  core::Session session;
  session.update(memory_scene());
  session.live();
  ASSERT_TRUE(session.wait_live(kTimeout));
  const auto r = session.live_result();
  ASSERT_TRUE(r->pass && r->config) << r->error;
  ASSERT_FALSE(r->generation) << "nothing was stepped";
  const core::model::Config& c = *r->config;
  const int n = static_cast<int>(r->pass->tokens.size());
  const core::LiveMemory m = core::build_live_memory(*r);
  EXPECT_TRUE(m.from_pass);
  ASSERT_EQ(m.n, std::vector<int>{n});
  // f32 K and V of every layer and K/V head for the n prompt positions, by hand.
  const double held = static_cast<double>(n) * c.n_layers * c.n_kv_heads * c.head_dim * 2 * 4;
  EXPECT_EQ(m.full_held[0], held);
  EXPECT_EQ(m.full_theory[0], held);
  EXPECT_GE(m.full_alloc[0], held);
  EXPECT_TRUE(m.paged_blocks.empty());
  const fig::ViewEntry* e = fig::find_view("live_memory");
  ASSERT_NE(e, nullptr);
  const fig::Figure f =
      fig::build_figure(*e, fig::ViewInput{session.scene(), r.get()}, fig::theme_dark());
  EXPECT_FALSE(f.legend.empty()) << "the chart is drawn, not the placeholder";
}

TEST(LiveMemory, PagedBlocksAreTheRuntimesBlockTable) {
  if (!have_smollm2()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  const int B = 7;
  core::Scene s = memory_scene();
  s.variant.cache = core::CacheMode::Paged;
  s.variant.block = B;
  core::Session session;
  session.update(s);
  session.live();
  ASSERT_TRUE(session.wait_live(kTimeout));
  auto r = session.live_result();
  ASSERT_TRUE(r->pass && r->config) << r->error;
  const core::model::Config& c = *r->config;
  const int n = static_cast<int>(r->pass->tokens.size());
  const int64_t slot_bytes = static_cast<int64_t>(c.n_kv_heads) * c.head_dim * 2 * 4;
  int64_t blocks = 0;
  for (const core::model::CacheCapture& cc : r->pass->capture->cache) {
    ASSERT_EQ(cc.block, B);
    EXPECT_EQ(table_blocks(cc), (n + B - 1) / B) << "layer " << cc.layer;
    blocks += table_blocks(cc);
  }
  core::LiveMemory m = core::build_live_memory(*r);
  ASSERT_TRUE(m.from_pass);
  ASSERT_EQ(m.paged_blocks.size(), 1u);
  EXPECT_EQ(m.block, B);
  EXPECT_EQ(m.paged_blocks[0], blocks);
  EXPECT_EQ(m.block_bytes, B * slot_bytes);
  EXPECT_EQ(m.paged_alloc[0], static_cast<double>(blocks * B * slot_bytes));
  // Only each layer's last block is partly filled.
  const int64_t empty = static_cast<int64_t>(c.n_layers) * ((n + B - 1) / B * B - n);
  EXPECT_EQ(m.paged_empty_slots[0], empty);
  EXPECT_EQ(m.paged_fragment[0], static_cast<double>(empty * slot_bytes));
  EXPECT_NE(m.paged_line.find(std::to_string(blocks) + " blocks"), std::string::npos)
      << m.paged_line;

  // Step by step: the generation's reference run keeps the paged cache and its tables.
  const int steps = B + 1;  // at least one new block per layer
  session.live().step(steps);
  ASSERT_TRUE(session.wait_live(kTimeout));
  r = session.live_result();
  ASSERT_TRUE(r->generation) << r->error;
  m = core::build_live_memory(*r);
  EXPECT_FALSE(m.from_pass);
  ASSERT_EQ(m.paged_blocks.size(), static_cast<size_t>(steps + 1));
  EXPECT_EQ(m.paged_blocks[0], blocks) << "the prefill's tables, as in the pass";
  for (int i = 0; i <= steps; ++i) {
    const int64_t per_layer = (n + i + B - 1) / B;
    EXPECT_EQ(m.n[i], n + i);
    EXPECT_EQ(m.paged_blocks[i], c.n_layers * per_layer) << "step " << i;
    EXPECT_EQ(m.paged_empty_slots[i], c.n_layers * (per_layer * B - (n + i))) << "step " << i;
  }
}

// With a window the pass's paged cache returns the blocks every later query is past to the
// free list: the chart counts what the tables still point at.
TEST(LiveMemory, PagedBlocksUnderAWindowFollowTheTable) {
  if (!have_smollm2()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  const int B = 4;
  core::Scene s = memory_scene();
  s.mask = attn::MaskKind::SlidingWindow;
  s.window = 8;
  s.window_convention = attn::WindowConvention::IncludingSelf;
  s.variant.cache = core::CacheMode::Paged;
  s.variant.block = B;
  core::Session session;
  session.update(s);
  session.live();
  ASSERT_TRUE(session.wait_live(kTimeout));
  const auto r = session.live_result();
  ASSERT_TRUE(r->pass && r->config) << r->error;
  const int n = static_cast<int>(r->pass->tokens.size());
  int64_t blocks = 0, released = 0;
  for (const core::model::CacheCapture& cc : r->pass->capture->cache) {
    blocks += table_blocks(cc);
    for (int b : cc.block_table) released += b < 0 ? 1 : 0;
  }
  ASSERT_GT(released, 0) << "the window passed some blocks";
  const core::LiveMemory m = core::build_live_memory(*r);
  ASSERT_EQ(m.paged_blocks.size(), 1u);
  EXPECT_EQ(m.paged_blocks[0], blocks);
  EXPECT_LT(m.paged_blocks[0], static_cast<int64_t>(r->config->n_layers) * ((n + B - 1) / B));
  // The held blocks hold the last positions: each layer's filled slots are its held blocks'
  // slots minus the empty ones, counted from slot_pos.
  int64_t filled = 0;
  for (const core::model::CacheCapture& cc : r->pass->capture->cache)
    for (int32_t p : cc.slot_pos) filled += p >= 0 ? 1 : 0;
  EXPECT_EQ(m.paged_empty_slots[0], blocks * B - filled);
}

}  // namespace
