// Figures: every view builds for every theme, marks stay on the canvas, heatmap ids map back
// to cells, and the colormaps hit their published end colours.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/figure/colormap.h"
#include "core/figure/decorate.h"
#include "core/figure/view_registry.h"
#include "core/scene/presets.h"
#include "core/scene/scene_json.h"

namespace {

std::vector<core::Scene> scenes() {
  std::vector<core::Scene> out;
  out.push_back(core::Scene{});
  core::Scene m;
  core::apply_preset(m, "Mistral-7B");
  m.seq_len = 32768;
  m.query = 32767;
  m.step = 5000;
  out.push_back(m);
  core::Scene g;
  core::apply_preset(g, "Gemma-3-270M");
  g.seq_len = 2048;
  g.query = 2000;
  g.chunk = 100;
  g.step = 700;
  g.mask = attn::MaskKind::Chunked;
  out.push_back(g);
  core::Scene b;
  core::apply_preset(b, "Llama-2-70B");
  b.mask = attn::MaskKind::BlockDiagonal;
  b.query = 10;
  b.log_scale = true;
  out.push_back(b);
  core::Scene sp;
  sp.mask = attn::MaskKind::Sparse;
  sp.seq_len = 300;
  sp.query = 299;
  out.push_back(sp);
  return out;
}

TEST(Figures, EveryViewEveryTheme) {
  for (const std::string& tn : fig::theme_names()) {
    const fig::Theme t = fig::theme_by_name(tn);
    for (const core::Scene& s : scenes())
      for (const fig::ViewEntry* id : fig::analytic_views()) {
        const fig::Figure f = fig::build_view_figure(*id, s, t);
        ASSERT_GT(f.marks.size(), 5u) << id->id;
        EXPECT_FALSE(f.title.empty());
        for (const fig::Mark& mk : f.marks) {
          if (const auto* tx = std::get_if<fig::Text>(&mk)) {
            EXPECT_GE(tx->x, 0) << id->id << ": " << tx->text;
            EXPECT_LE(tx->x, f.width) << id->id << ": " << tx->text;
            EXPECT_GE(tx->y, 0) << id->id << ": " << tx->text;
            EXPECT_LE(tx->y, f.height) << id->id << ": " << tx->text;
          }
          if (const auto* h = std::get_if<fig::Heatmap>(&mk)) {
            EXPECT_EQ(h->values.size(), static_cast<size_t>(h->rows) * h->cols);
            EXPECT_LE(h->x + h->w, f.width + 0.5f) << id->id;
            EXPECT_LE(h->y + h->h, f.height + 0.5f) << id->id;
          }
        }
      }
  }
}

TEST(Figures, MaskHeatmapMapsBackToCells) {
  core::Scene s;
  s.seq_len = 40;
  s.query = 39;
  const fig::Figure f = fig::build_view_figure("mask", s, fig::theme_dark());
  const fig::Heatmap* h = fig::find_heatmap(f, fig::kMaskHeatmapId);
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(h->rows, 40);
  const float cw = h->w / 40, ch = h->h / 40;
  const auto cell = fig::heatmap_cell_at(*h, h->x + 7.5f * cw, h->y + 12.5f * ch);
  ASSERT_TRUE(cell.has_value());
  EXPECT_EQ(cell->row, 12);
  EXPECT_EQ(cell->col, 7);
  EXPECT_FALSE(fig::heatmap_cell_at(*h, h->x - 1, h->y).has_value());
  // The default scene: W=16 self plus previous, so (12, 7) is visible and (39, 0) is not.
  EXPECT_FALSE(std::isnan(h->values[12 * 40 + 7]));
  EXPECT_TRUE(std::isnan(h->values[39 * 40 + 0]));
}

TEST(Figures, RegistryHoldsEveryViewOnce) {
  const std::vector<std::string> want = {
      "mask",         "receptive_field", "ring",        "groups",     "kv_memory",
      "flash",        "paged",           "mla",         "sparse",     "live_attention",
      "live_rollout", "live_ring",       "live_groups", "live_memory"};
  std::vector<std::string> ids;
  for (const fig::ViewEntry& e : fig::view_entries()) {
    ids.push_back(e.id);
    EXPECT_EQ(fig::find_view(e.id), &e);
    EXPECT_FALSE(e.title.empty()) << e.id;
    EXPECT_TRUE(e.build_data && e.build_figure) << e.id;
    EXPECT_EQ(e.live, e.id.rfind("live_", 0) == 0) << e.id;
  }
  EXPECT_EQ(ids, want);
  EXPECT_EQ(fig::find_view("nope"), nullptr);
  EXPECT_EQ(fig::analytic_views().size(), 9u);
}

TEST(Colormap, EndsAreThePublishedColours) {
  auto near8 = [](fig::Rgba c, int r, int g, int b) {
    return std::abs(c.r * 255 - r) < 0.6 && std::abs(c.g * 255 - g) < 0.6 &&
           std::abs(c.b * 255 - b) < 0.6;
  };
  EXPECT_TRUE(near8(fig::colormap_color(fig::Colormap::Viridis, 0), 0x44, 0x01, 0x54));
  EXPECT_TRUE(near8(fig::colormap_color(fig::Colormap::Viridis, 1), 0xfd, 0xe7, 0x25));
  EXPECT_TRUE(near8(fig::colormap_color(fig::Colormap::Viridis, 0.5f), 0x21, 0x91, 0x8c));
  EXPECT_TRUE(near8(fig::colormap_color(fig::Colormap::Cividis, 0), 0x00, 0x20, 0x4d));
  EXPECT_TRUE(near8(fig::colormap_color(fig::Colormap::Cividis, 1), 0xff, 0xea, 0x46));
  // Diverging: the middle is near white, the ends are blue (low) and red (high).
  const fig::Rgba mid = fig::colormap_color(fig::Colormap::Diverging, 0.5f);
  EXPECT_GT(mid.r + mid.g + mid.b, 2.8f);
  const fig::Rgba lo = fig::colormap_color(fig::Colormap::Diverging, 0);
  const fig::Rgba hi = fig::colormap_color(fig::Colormap::Diverging, 1);
  EXPECT_GT(lo.b, lo.r);
  EXPECT_GT(hi.r, hi.b);
}

TEST(Colormap, SequentialMapsGetBrighter) {
  for (fig::Colormap c : {fig::Colormap::Viridis, fig::Colormap::Cividis}) {
    const fig::ColormapLut& lut = fig::colormap_lut(c);
    auto luma = [](fig::Rgba x) { return 0.2126f * x.r + 0.7152f * x.g + 0.0722f * x.b; };
    for (int i = 8; i < 256; i += 8) EXPECT_GT(luma(lut[i]), luma(lut[i - 8])) << i;
  }
}

TEST(Colormap, Scales) {
  EXPECT_FLOAT_EQ(fig::scale_value(5, 0, 10, fig::ValueScale::Linear), 0.5f);
  // Exact values 1/3 and 0.5 computed in float32 through log10/pow: a few ulps (< 1e-6).
  EXPECT_NEAR(fig::scale_value(10, 1, 1000, fig::ValueScale::Log), 1.0f / 3, 1e-6);
  EXPECT_NEAR(fig::scale_value(0.25f, 0, 1, fig::ValueScale::Gamma, 0.5f), 0.5f, 1e-6);
  EXPECT_TRUE(std::isnan(fig::scale_value(NAN, 0, 1, fig::ValueScale::Linear)));
}

TEST(Theme, SlidesHaveLargerType) {
  EXPECT_GT(fig::theme_slides().font_size, fig::theme_light().font_size);
  EXPECT_EQ(fig::theme_by_name("light").name, "light");
  EXPECT_GE(fig::theme_dark().palette.size(), 7u);
}

}  // namespace

namespace {

bool finite_point(float x, float y) {
  return std::isfinite(x) && std::isfinite(y);
}

// Random valid scenes, edge values included: every figure builds and has finite geometry.
TEST(Figures, RandomScenesBuild) {
  std::mt19937 rng(11);
  auto pick = [&](std::initializer_list<int> v) { return *(v.begin() + rng() % v.size()); };
  for (int trial = 0; trial < 150; ++trial) {
    core::Scene s;
    s.preset = "custom";
    s.seq_len = pick({1, 2, 7, 64, 65, 513, 4096, 20000});
    s.query = static_cast<int>(rng() % s.seq_len);
    s.n_layers = pick({1, 2, 6, 32, 100});
    s.n_heads = pick({1, 4, 9, 64, 128});
    s.n_kv_heads = 1;
    for (int d = 1; d <= s.n_heads; ++d)
      if (s.n_heads % d == 0 && rng() % 3 == 0) s.n_kv_heads = d;
    s.mask = static_cast<attn::MaskKind>(rng() % 5);
    s.window = pick({0, 1, 2, 16, 100, 4096});
    s.window_convention = static_cast<attn::WindowConvention>(rng() % 2);
    s.global_every = s.window > 0 && rng() % 2 ? 1 + static_cast<int>(rng() % s.n_layers) : 0;
    s.chunk = pick({0, 1, 5, 64, 1000});
    s.step = pick({0, 1, 15, 16, 17, 300, 10000});
    s.dtype = static_cast<core::Dtype>(rng() % 4);
    s.batch = pick({1, 3, 64});
    s.log_scale = rng() % 2;
    s.segments = {1 + static_cast<int>(rng() % 50)};
    s.colormap = pick({0, 1}) ? "cividis" : "viridis";
    ASSERT_NO_THROW(core::validate_scene(s));
    const fig::Theme t = fig::theme_by_name(pick({0, 1}) ? "light" : "slides");
    for (const fig::ViewEntry* id : fig::analytic_views()) {
      const fig::Figure f = fig::build_view_figure(*id, s, t);
      for (const fig::Mark& mk : f.marks) {
        bool ok = true;
        if (const auto* p = std::get_if<fig::Polyline>(&mk)) {
          for (const fig::Point& q : p->pts) ok = ok && finite_point(q.x, q.y);
        } else if (const auto* r = std::get_if<fig::Rect>(&mk)) {
          ok = finite_point(r->x, r->y) && finite_point(r->w, r->h);
        } else if (const auto* h = std::get_if<fig::Heatmap>(&mk)) {
          ok = h->values.size() == static_cast<size_t>(h->rows) * h->cols &&
               finite_point(h->x, h->y) && finite_point(h->w, h->h);
        } else if (const auto* tx = std::get_if<fig::Text>(&mk)) {
          ok = finite_point(tx->x, tx->y);
        }
        ASSERT_TRUE(ok) << id->id << " trial " << trial;
      }
    }
  }
}

}  // namespace
