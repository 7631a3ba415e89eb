// Every view panel renders through the real binary, and the mask panel shows what the scene
// asks for: viridis cells for visible pairs, the theme's masked colour for the rest, and more
// visible cells when the window grows.
#include <nlohmann/json.hpp>

#include "core/figure/colormap.h"
#include "core/figure/theme.h"
#include "core/figure/view_registry.h"
#include "core/scene/scene_json.h"
#include "core/views/mask_grid.h"
#include "gui_run.h"

namespace {

constexpr int kW = 1280, kH = 720;

gui::Image screenshot(const gui::TempDir& tmp, const std::string& scene, const std::string& view,
                      const std::string& name, std::vector<std::string> extra = {}) {
  const std::string out = tmp / (name + ".png");
  std::vector<std::string> args = {
      "--scene", scene,     "--view",           view,       "--frames",        "3", "--screenshot",
      out,       "--width", std::to_string(kW), "--height", std::to_string(kH)};
  args.insert(args.end(), extra.begin(), extra.end());
  const gui::RunResult r = gui::run_app(tmp, args);
  EXPECT_EQ(r.rc, 0) << r.err;
  return gui::load_png(out);
}

std::string scene_file(const gui::TempDir& tmp, const std::string& name, int window) {
  const std::string path = tmp / name;
  gui::write_text(path,
                  R"({ "version": 1, "preset": "custom", "seq_len": 64, "mask": "sliding_window",
    "window_convention": "including_self", "query": 63, "view": "mask", "window": )" +
                      std::to_string(window) + " }");
  return path;
}

}  // namespace

TEST(AppViews, EveryPanelRendersSomethingOfItsOwn) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  const std::string scene = std::string(ATTNLAB_SCENE_DIR) + "/mistral_swa.json";
  std::vector<gui::Image> shots;
  for (const fig::ViewEntry* id : fig::analytic_views()) {
    SCOPED_TRACE(id->id);
    const gui::Image img = screenshot(tmp, scene, id->id, id->id);
    ASSERT_EQ(img.w, kW);
    ASSERT_EQ(img.h, kH);
    // The view area (right of the controls) holds a drawing, not a flat fill.
    const int x0 = kW * 35 / 100;
    EXPECT_GT(img.distinct_colours(x0, 60, kW, kH - 40), 12);
    const gui::Rgb bg = gui::to_rgb(fig::theme_dark().background);
    const int area = (kW - x0) * (kH - 100);
    EXPECT_LT(img.count(bg, x0, 60, kW, kH - 40), area * 97 / 100);
    for (const gui::Image& other : shots)
      EXPECT_NE(img.px, other.px) << "two views drew the same picture";
    shots.push_back(img);
  }
}

TEST(AppViews, MaskShowsViridisVisibleCellsAndMaskedBackground) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  const gui::Image img = screenshot(tmp, scene_file(tmp, "w8.json", 8), "mask", "mask");
  const int x0 = kW * 30 / 100;
  const gui::Rgb visible = gui::to_rgb(fig::colormap_lut(fig::Colormap::Viridis)[255]);
  const gui::Rgb masked = gui::to_rgb(fig::theme_dark().masked);
  EXPECT_GT(img.count(visible, x0, 0, kW, kH), 2000) << "no fully visible (viridis top) cells";
  EXPECT_GT(img.count(masked, x0, 0, kW, kH), 20000) << "no masked cells in the theme colour";
}

TEST(AppViews, MaskFollowsTheWindow) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  const std::string s8 = scene_file(tmp, "w8.json", 8), s16 = scene_file(tmp, "w16.json", 16);
  const gui::Image a = screenshot(tmp, s8, "mask", "w8");
  const gui::Image b = screenshot(tmp, s16, "mask", "w16");
  ASSERT_EQ(a.px.size(), b.px.size());
  EXPECT_NE(a.px, b.px);
  // Visible cells are drawn in the colormap's top colour, so their pixel counts scale with the
  // exact visible-pair counts (cell outlines and the hover tooltip cost a few percent).
  const gui::Rgb visible = gui::to_rgb(fig::colormap_lut(fig::Colormap::Viridis)[255]);
  const int x0 = kW * 30 / 100;
  const double pa = a.count(visible, x0, 0, kW, kH), pb = b.count(visible, x0, 0, kW, kH);
  std::vector<std::string> warnings;
  const double va = static_cast<double>(core::count_visible_pairs(core::load_scene(s8, warnings)));
  const double vb = static_cast<double>(core::count_visible_pairs(core::load_scene(s16, warnings)));
  ASSERT_GT(pa, 0);
  EXPECT_NEAR(pb / pa, vb / va, 0.12 * vb / va)
      << "pixels " << pa << " -> " << pb << ", pairs " << va << " -> " << vb;
}

TEST(AppViews, LightThemeAndTiledLayoutRender) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  const std::string scene = std::string(ATTNLAB_SCENE_DIR) + "/mistral_swa.json";
  const gui::Image img =
      screenshot(tmp, scene, "mask", "light", {"--theme", "light", "--layout", "grid"});
  const gui::Rgb bg = gui::to_rgb(fig::theme_light().background);
  // Mostly the light background, with every tile drawing something.
  EXPECT_GT(img.count(bg, 0, 0, kW, kH), kW * kH / 3);
  EXPECT_GT(img.distinct_colours(kW / 3, 0, kW, kH), 20);
}

TEST(AppViews, DownsampledMaskEdgesUseTheColormapLut) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  // N=4096 is drawn as 512 x 512 cells of 8 x 8 pairs; cells cut by the window's edges hold a
  // fraction of visible pairs, which the shader colours from the interior of the LUT.
  const std::string path = tmp / "n4096.json";
  gui::write_text(path, R"({ "preset": "custom", "seq_len": 4096, "mask": "sliding_window",
    "window": 300, "window_convention": "including_self", "query": 4095, "view": "mask" })");
  const gui::Image img = screenshot(tmp, path, "mask", "n4096");
  const fig::ColormapLut& lut = fig::colormap_lut(fig::Colormap::Viridis);
  std::vector<gui::Rgb> interior;
  for (int i = 1; i < 255; ++i) interior.push_back(gui::to_rgb(lut[i]));
  // Only the plot, left of the legend and the colorbar (which holds every LUT colour).
  int hits = 0;
  for (int y = 0; y < kH; ++y)
    for (int x = kW * 30 / 100; x < kW * 78 / 100; ++x)
      hits += std::find(interior.begin(), interior.end(), img.at(x, y)) != interior.end();
  // Two band edges of ~512 cells each; most cut cells are partly visible.
  EXPECT_GT(hits, 300);
}

TEST(AppViews, RingWiderThanTheTextureLimitStillShowsItsPositions) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  // No window: the ring is a full cache of 131072 slots, one heatmap row wider than any GL
  // texture; its slots hold positions 0..131071, a full sweep of the colormap.
  const std::string path = tmp / "full.json";
  gui::write_text(path, R"({ "preset": "Llama-2-7B", "seq_len": 131072, "mask": "causal",
    "query": 131071, "step": 131072, "view": "ring" })");
  const gui::Image img = screenshot(tmp, path, "ring", "full");
  const fig::ColormapLut& lut = fig::colormap_lut(fig::Colormap::Viridis);
  int lut_colours = 0;
  for (int i = 0; i < 256; ++i)
    lut_colours += img.count(gui::to_rgb(lut[i]), kW * 30 / 100, 0, kW, kH) > 0;
  EXPECT_GT(lut_colours, 150) << "the slot strip should sweep the colormap";
}

// Hover reads the grid the figure was built from: pointing at a 4096-wide mask for several
// frames shows the cell's text and builds no second grid (the builds are counted).
TEST(AppViews, HoverOnA4096MaskBuildsNoGrid) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  const std::string scene = std::string(ATTNLAB_ASSET_DIR) + "/scenes/swa_4096.json";
  auto status = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--scene",  scene, "--view",        "mask",
                                     "--frames", "6",   "--print-status"};
    args.insert(args.end(), extra.begin(), extra.end());
    const gui::RunResult r = gui::run_app(tmp, args);
    EXPECT_EQ(r.rc, 0) << r.err;
    return nlohmann::json::parse(r.out.substr(r.out.rfind('{', r.out.find("mask_grid_builds"))),
                                 nullptr, false);
  };
  const nlohmann::json first = status({});
  ASSERT_TRUE(first.contains("heatmap") && first["heatmap"].contains("mask")) << first.dump();
  const auto& h = first["heatmap"]["mask"];
  EXPECT_EQ(h["cols"], 512) << "N=4096 is drawn downsampled";
  const int x = static_cast<int>(h["x"].get<double>() + h["w"].get<double>() * 0.4);
  const int y = static_cast<int>(h["y"].get<double>() + h["h"].get<double>() * 0.6);
  const nlohmann::json hovered = status({"--mouse", std::to_string(x) + "," + std::to_string(y)});
  EXPECT_FALSE(hovered["hover_text"].get<std::string>().empty()) << hovered.dump();
  EXPECT_EQ(first["mask_grid_builds"], 1);
  EXPECT_EQ(hovered["mask_grid_builds"], 1) << "hover built a grid of its own";
}

// The flash, paged and mla views explain a box under the pointer: the status names where the
// first hover area of each landed (the flash grid's first tile, sequence 0's first logical
// block, the MHA cache bar), and resting the pointer on its centre shows that box's text.
TEST(AppViews, HoverOnTheSystemViewsNamesTheBox) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  const std::string scene = std::string(ATTNLAB_SCENE_DIR) + "/flash_tiles.json";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"flash", "tile (row block 0, key tile 0)"},
      {"paged", "sequence 0 ("},
      {"mla", "MHA: K and V of "}};
  for (const auto& [view, starts] : cases) {
    auto status = [&](std::vector<std::string> extra) {
      std::vector<std::string> args = {"--scene",  scene, "--view",        view,
                                       "--frames", "4",   "--print-status"};
      args.insert(args.end(), extra.begin(), extra.end());
      const gui::RunResult r = gui::run_app(tmp, args);
      EXPECT_EQ(r.rc, 0) << r.err;
      return nlohmann::json::parse(r.out.substr(r.out.rfind('{', r.out.find("mask_grid_builds"))),
                                   nullptr, false);
    };
    const nlohmann::json first = status({});
    ASSERT_TRUE(first.contains("hover_area") && first["hover_area"].contains(view)) << first.dump();
    const auto& a = first["hover_area"][view];
    const int x = static_cast<int>(a["x"].get<double>() + a["w"].get<double>() / 2);
    const int y = static_cast<int>(a["y"].get<double>() + a["h"].get<double>() / 2);
    const nlohmann::json hovered = status({"--mouse", std::to_string(x) + "," + std::to_string(y)});
    EXPECT_EQ(hovered["hover_text"].get<std::string>().rfind(starts, 0), 0u)
        << view << ": " << hovered["hover_text"];
  }
}
