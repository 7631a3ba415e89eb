// Hover text of the flash, paged and mla views against hand-worked cases (tiles of an 8-token
// causal and chunked prefill, a two-sequence block table with a shared prompt, a tiny MLA
// configuration whose bytes and FLOPs are worked out in the comments), and the figures'
// hover areas: each lies over the box it explains and the registry describes it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/attention/paged_blocks.h"
#include "core/figure/figure_systems.h"
#include "core/figure/view_registry.h"
#include "core/views/flash_view.h"
#include "core/views/mla.h"
#include "core/views/paged_view.h"

namespace {

using ::testing::HasSubstr;

TEST(SystemHover, FlashTilesOfACausalPrefill) {
  attn::MaskSpec m;  // causal
  // N = 8 in 4 x 4 tiles: row block 0 = {diagonal, above}, row block 1 = {below, diagonal}.
  const core::TileGrid g = core::build_tile_grid(m, 8, 4, 4);
  ASSERT_EQ(g.tiles.size(), 4u);
  EXPECT_EQ(core::describe_flash_tile(g, 0),
            "tile (row block 0, key tile 0): masked\nqueries 0..3 x keys 0..3 (16 pairs)\n"
            "some pairs are hidden: the kernel applies the mask inside the tile");
  EXPECT_EQ(core::describe_flash_tile(g, 1),
            "tile (row block 0, key tile 1): skipped\nqueries 0..3 x keys 4..7 (16 pairs)\n"
            "no pair is visible: the kernel never loads this K/V tile for the row block");
  EXPECT_EQ(core::describe_flash_tile(g, 2),
            "tile (row block 1, key tile 0): full\nqueries 4..7 x keys 0..3 (16 pairs)\n"
            "every pair is visible: computed without a mask");
  EXPECT_EQ(core::describe_flash_tile(g, 4), "");
  EXPECT_EQ(core::describe_flash_tile(g, -1), "");
}

TEST(SystemHover, FlashTilesOfAChunkedPrefill) {
  attn::MaskSpec m;
  m.kind = attn::MaskKind::Chunked;
  m.chunk = 4;
  // Two calls of 4 queries in 2 x 2 tiles. Call 0: row blocks 0, 1 over keys {0..1, 2..3}
  // (tiles 0-3). Call 1: row blocks 2, 3 over the cache {0..1, 2..3} and its own {4..5, 6..7}.
  const core::TileGrid g = core::build_tile_grid(m, 8, 2, 2);
  ASSERT_EQ(g.tiles.size(), 12u);
  EXPECT_THAT(
      core::describe_flash_tile(g, 4),
      HasSubstr("tile (row block 2, key tile 0): full\nqueries 4..5 x keys 0..1 (4 pairs)"));
  EXPECT_THAT(core::describe_flash_tile(g, 6),
              HasSubstr("tile (row block 2, key tile 2): masked\nqueries 4..5 x keys 4..5"));
  EXPECT_THAT(core::describe_flash_tile(g, 11),
              HasSubstr("tile (row block 3, key tile 3): masked\nqueries 6..7 x keys 6..7"));
}

// Lengths {6, 5}, blocks of 4, a shared 5-token prompt: sequence 0 takes physical 0 (tokens
// 0-3) and 1 (token 4); sequence 1 forks, sharing both. Sequence 0's token 5 goes into the
// shared partial block 1, so it copies it to a new block 2 (fill 1 + 1 = 2); sequence 1 is
// already at 5 tokens. Tables: seq 0 = [0, 2], seq 1 = [0, 1]; block 0 is held twice.
core::PagedView shared_prompt_view() {
  core::Scene s;
  s.seq_len = 16;
  s.paged.block = 4;
  s.paged.sequences = {6, 5};
  s.paged.prefix = 5;
  return core::build_paged_view(s);
}

TEST(SystemHover, PagedBlockTableAndPool) {
  const core::PagedView v = shared_prompt_view();
  ASSERT_EQ(v.blocks.tables, (std::vector<std::vector<int>>{{0, 2}, {0, 1}}));
  EXPECT_EQ(core::describe_paged_logical(v, 0, 0),
            "sequence 0 (6 tokens), logical block 0 -> physical block 0\n"
            "tokens 0..3 of the sequence; fill 4 / 4 tokens (0 slots unused)\n"
            "ref count 2: shared by seq 0 (logical 0), seq 1 (logical 0); a write into it "
            "copies it first (copy-on-write)");
  EXPECT_EQ(core::describe_paged_logical(v, 0, 1),
            "sequence 0 (6 tokens), logical block 1 -> physical block 2\n"
            "tokens 4..5 of the sequence; fill 2 / 4 tokens (2 slots unused)\nref count 1");
  EXPECT_EQ(core::describe_paged_logical(v, 1, 1),
            "sequence 1 (5 tokens), logical block 1 -> physical block 1\n"
            "tokens 4..4 of the sequence; fill 1 / 4 tokens (3 slots unused)\nref count 1");
  EXPECT_EQ(core::describe_paged_physical(v, 1),
            "physical block 1: fill 1 / 4 tokens (3 slots unused)\n"
            "ref count 1: held by seq 1 (logical 1)");
  EXPECT_EQ(core::describe_paged_logical(v, 2, 0), "");
  EXPECT_EQ(core::describe_paged_logical(v, 1, 2), "");
  EXPECT_EQ(core::describe_paged_physical(v, 3), "");
  // A released sequence's block goes back to the free list.
  core::PagedView freed = v;
  core::paged_release(freed.blocks, 1);  // block 1 was seq 1's alone
  EXPECT_EQ(core::describe_paged_physical(freed, 1), "physical block 1: free (on the free list)");
}

// n_layers 2, n_heads 4, head_dim 8, 2 K/V groups, d_c 16, d_R 4, fp16, T = 10 tokens.
core::MlaCosts tiny_mla() {
  core::Scene s;
  s.preset = "custom";
  s.n_layers = 2;
  s.n_heads = 4;
  s.n_kv_heads = 2;
  s.head_dim = 8;
  s.d_model = 32;
  s.mla.latent = 16;
  s.mla.rope_dim = 4;
  s.dtype = core::Dtype::FP16;
  s.seq_len = 10;
  return core::build_mla_costs(s);
}

std::string mla(int item) {
  return core::describe_mla_item(tiny_mla(), item, 32);
}

TEST(SystemHover, MlaElementsSayTheirBytes) {
  using I = core::MlaItem;
  // MHA: 2 x 4 x 8 = 64 values, x 2 layers x 2 B = 256 B per token.
  EXPECT_THAT(mla(static_cast<int>(I::CacheMha)), HasSubstr("2 x 4 x 8 = 64 values"));
  EXPECT_THAT(mla(static_cast<int>(I::CacheMha)), HasSubstr("x 2 layers x 2 B = 256 B"));
  // GQA: 2 x 2 x 8 = 32 values -> 128 B; MQA: 2 x 8 = 16 -> 64 B; MLA: 16 + 4 = 20 -> 80 B.
  EXPECT_THAT(mla(static_cast<int>(I::CacheGqa)), HasSubstr("= 32 values"));
  EXPECT_THAT(mla(static_cast<int>(I::CacheGqa)), HasSubstr("= 128 B"));
  EXPECT_THAT(mla(static_cast<int>(I::CacheMqa)), HasSubstr("= 64 B"));
  EXPECT_THAT(mla(static_cast<int>(I::CacheMla)), HasSubstr("16 + 4 = 20 values"));
  EXPECT_THAT(mla(static_cast<int>(I::CacheMla)), HasSubstr("= 80 B"));
  // c_KV: 16 values = 32 B per layer, cached: 64 B over 2 layers; k_R: 4 values = 8 B.
  EXPECT_THAT(mla(static_cast<int>(I::Latent)), HasSubstr("16 values per token per layer = 32 B"));
  EXPECT_THAT(mla(static_cast<int>(I::Latent)), HasSubstr("cached: 64 B"));
  EXPECT_THAT(mla(static_cast<int>(I::RopeKey)), HasSubstr("4 values per token per layer = 8 B"));
  // k_C and v_C: 4 x 8 = 32 values = 64 B, not cached; h_t: 32 values = 64 B.
  EXPECT_THAT(mla(static_cast<int>(I::Keys)), HasSubstr("32 values per token per layer = 64 B"));
  EXPECT_THAT(mla(static_cast<int>(I::Keys)), HasSubstr("never stored"));
  EXPECT_THAT(mla(static_cast<int>(I::Values)), HasSubstr("never stored"));
  EXPECT_THAT(mla(static_cast<int>(I::Hidden)), HasSubstr("32 values per token per layer = 64 B"));
  // FLOPs = 2 x multiply-adds. Plain: 2*10*4*8*16 + 10*4*(8+4) + 10*4*8 = 11040 -> 22080.
  // Absorbed: 4*8*16 + 10*4*(16+4) + 10*4*16 + 4*16*8 = 2464 -> 4928.
  EXPECT_THAT(mla(static_cast<int>(I::FlopsPlain)), HasSubstr("22080 FLOP"));
  EXPECT_THAT(mla(static_cast<int>(I::FlopsAbsorbed)), HasSubstr("4928 FLOP"));
  // Bytes: shared = 10*(16+4) + 2*4*8*16 = 1224 values -> 2448 B absorbed;
  // plain adds K and V written and read back, 2*10*4*2*8 = 1280 -> (1224+1280)*2 = 5008 B.
  EXPECT_THAT(mla(static_cast<int>(I::BytesAbsorbed)), HasSubstr("2448 B"));
  EXPECT_THAT(mla(static_cast<int>(I::BytesPlain)), HasSubstr("5008 B"));
  EXPECT_EQ(mla(core::kMlaItems), "");
  EXPECT_EQ(mla(-1), "");
}

// The centre of a hover area finds that area.
fig::Point centre(const fig::HoverArea& a) {
  return {a.x + a.w / 2, a.y + a.h / 2};
}

TEST(SystemHover, FlashFigureAreasCoverEveryTileInPlace) {
  core::Scene s;
  s.seq_len = 64;
  s.query = 63;
  s.head_dim = 16;
  s.mask = attn::MaskKind::Causal;
  s.flash.sram_bytes = 1024;  // fp16: M = 512, Bc = ceil(512 / 64) = 8, Br = min(8, 16) = 8
  const fig::ViewEntry* e = fig::find_view("flash");
  ASSERT_TRUE(e && e->describe);
  const fig::ViewInput in{s};
  const fig::ViewData d = e->build_data(in);
  const auto* v = fig::view_data<core::FlashView>(d);
  ASSERT_TRUE(v);
  const fig::Figure f = e->build_figure(d, in, fig::theme_by_name("dark"), {});
  int areas = 0;
  float left = 1e9f, top = 1e9f;  // the grid's corner: tile (0, 0)
  for (const fig::HoverArea& a : f.hover_areas)
    if (a.id == fig::kFlashTileHoverId) left = std::min(left, a.x), top = std::min(top, a.y);
  for (const fig::HoverArea& a : f.hover_areas) {
    if (a.id != fig::kFlashTileHoverId) continue;
    ++areas;
    const core::Tile& t = v->tiling.grid.tiles.at(a.row);
    // Keys run across and queries down, at one scale: the area's corner is the tile's.
    const float sc = a.w / static_cast<float>(t.k1 - t.k0);
    EXPECT_NEAR(a.x, left + t.k0 * sc, 1e-3);  // float layout arithmetic on values < 2000
    EXPECT_NEAR(a.y, top + t.q0 * sc, 1e-3);
    const fig::Point p = centre(a);
    ASSERT_EQ(fig::hover_area_at(f, p.x, p.y), &a);
    EXPECT_EQ(e->describe(d, in, a.id, a.row, a.col),
              core::describe_flash_tile(v->tiling.grid, a.row));
  }
  EXPECT_EQ(areas, 64);  // 8 x 8 tiles, skipped ones included
  EXPECT_EQ(e->describe(d, in, fig::kLiveAttentionHeatmapId, 0, 0), "");
}

// The trace's step slider: the figure spells out key tile 2 (keys 16..23 of the causal row
// q = 63 in tiles of Bc = 8, all 8 visible) and sets its table row in bold; without a step
// no such line.
TEST(SystemHover, FlashFigureSpellsOutTheChosenStep) {
  core::Scene s;
  s.seq_len = 64;
  s.query = 63;
  s.head_dim = 16;
  s.mask = attn::MaskKind::Causal;
  s.flash.sram_bytes = 1024;  // Bc = 8, as above
  const core::FlashView v = core::build_flash_view(s);
  ASSERT_EQ(v.trace.steps.size(), 8u);
  auto texts = [&](int step) {
    std::vector<fig::Text> out;
    for (const fig::Mark& m :
         fig::figure_flash(v, s, fig::theme_by_name("dark"), {1600, 900}, step).marks)
      if (const auto* t = std::get_if<fig::Text>(&m)) out.push_back(*t);
    return out;
  };
  bool line = false, bold = false;
  for (const fig::Text& t : texts(2)) {
    line |= t.text.rfind("step 2, keys 16..23 (8 visible): ", 0) == 0;
    bold |= t.bold && t.text == "16..23";
  }
  EXPECT_TRUE(line);
  EXPECT_TRUE(bold);
  for (const fig::Text& t : texts(-1)) {
    EXPECT_NE(t.text.rfind("step ", 0), 0u) << t.text;
    EXPECT_FALSE(t.bold && t.text == "16..23");
  }
}

TEST(SystemHover, PagedAndMlaFigureAreas) {
  core::Scene s;
  s.seq_len = 16;
  s.paged.block = 4;
  s.paged.sequences = {6, 5};
  s.paged.prefix = 5;
  const fig::Theme t = fig::theme_by_name("light");
  const core::PagedView v = core::build_paged_view(s);
  const fig::Figure pf = fig::figure_paged(v, s, t);
  int table = 0, pool = 0;
  for (const fig::HoverArea& a : pf.hover_areas) {
    if (a.id == fig::kPagedTableHoverId) {
      ++table;
      EXPECT_FALSE(core::describe_paged_logical(v, a.row, a.col).empty());
    } else if (a.id == fig::kPagedPoolHoverId) {
      EXPECT_EQ(a.row, pool++);  // the pool in id order
    }
  }
  EXPECT_EQ(table, 4);  // two blocks per sequence
  EXPECT_EQ(pool, 3);
  const core::MlaCosts c = core::build_mla_costs(s);
  const fig::Figure mf = fig::figure_mla(c, s, t);
  std::vector<int> seen(core::kMlaItems, 0);
  for (const fig::HoverArea& a : mf.hover_areas) {
    ASSERT_EQ(a.id, fig::kMlaHoverId);
    ASSERT_GE(a.row, 0);
    ASSERT_LT(a.row, core::kMlaItems);
    ++seen[a.row];
    const fig::Point p = centre(a);
    EXPECT_EQ(fig::hover_area_at(mf, p.x, p.y), &a) << "item " << a.row << " overlaps another";
  }
  for (int i = 0; i < core::kMlaItems; ++i) EXPECT_EQ(seen[i], 1) << "item " << i;
}

TEST(SystemHover, LiveAttentionKeepsItsHover) {
  // Its describe was once attached by position and landed on another entry.
  const fig::ViewEntry* e = fig::find_view("live_attention");
  ASSERT_TRUE(e);
  EXPECT_TRUE(static_cast<bool>(e->describe));
  EXPECT_TRUE(fig::find_view("flash")->uses_live);
}

}  // namespace
