// Presentation mode: full screen in the slides theme, no controls, a slide title in large
// type, and the arrow keys' slide index honoured (--slide stands in for pressing ->).
#include <nlohmann/json.hpp>

#include "core/figure/theme.h"
#include "gui_run.h"

namespace {

std::string lecture_file(const gui::TempDir& tmp) {
  const std::string path = tmp / "lecture.json";
  gui::write_text(path, R"({ "version": 1, "title": "Test lecture", "scenes": [
    { "title": "Sliding window", "caption": "Each query sees W keys including itself.", "view": "mask",
      "scene": { "preset": "custom", "seq_len": 32, "window": 8, "mask": "sliding_window" } },
    { "title": "Head groups", "caption": "Four query heads share each K/V head.", "view": "groups",
      "scene": { "preset": "custom", "n_heads": 16, "n_kv_heads": 4 } } ] })");
  return path;
}

// Rows in [y0, y1) holding at least one pixel of `c` in the left-right middle of the screen.
int rows_with(const gui::Image& img, gui::Rgb c, int y0, int y1) {
  int rows = 0;
  for (int y = y0; y < y1; ++y) rows += img.count(c, img.w / 5, y, img.w * 4 / 5, y + 1) > 0;
  return rows;
}

// Height of the first contiguous band of rows holding `c` across the screen's width (the
// slide title is left-aligned, as in the exported deck), from y0 down to y1.
int first_band_height(const gui::Image& img, gui::Rgb c, int y0, int y1) {
  int y = y0;
  while (y < y1 && img.count(c, 0, y, img.w, y + 1) == 0) ++y;
  const int start = y;
  while (y < y1 && img.count(c, 0, y, img.w, y + 1) > 0) ++y;
  return y - start;
}

}  // namespace

TEST(AppPresent, FullScreenSlideWithLargeTitleAndNoControls) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  const std::string shot = tmp / "present.png";
  const gui::RunResult r = gui::run_app(
      tmp, {"--lecture", lecture_file(tmp), "--present", "--frames", "4", "--screenshot", shot});
  ASSERT_EQ(r.rc, 0) << r.err;
  const gui::Image img = gui::load_png(shot);
  ASSERT_GT(img.w, 0);
  const fig::Theme slides = fig::theme_slides();
  const gui::Rgb bg = gui::to_rgb(slides.background), fg = gui::to_rgb(slides.foreground);
  // Borderless and monitor-sized: the slides background reaches every corner, and the
  // controls column (dark theme) is gone.
  for (auto [x, y] : {std::pair{2, 2}, {img.w - 3, 2}, {2, img.h - 3}, {img.w - 3, img.h - 3}})
    EXPECT_EQ(img.at(x, y), bg) << "corner " << x << "," << y;
  const gui::Rgb dark = gui::to_rgb(fig::theme_dark().background);
  EXPECT_EQ(img.count(dark, 0, 0, img.w, img.h), 0);
  // The title is the first band of text: glyphs at least 1/28 of the screen height tall (the
  // 17 px UI font's are about 13 px), so it reads from the back of a lecture hall.
  const int title_h = first_band_height(img, fg, 0, img.h / 4);
  EXPECT_GE(title_h, img.h / 28) << "title band " << title_h << " px";
  EXPECT_GT(rows_with(img, fg, 0, img.h), img.h / 10);
}

TEST(AppPresent, SlideIndexChangesTheSlide) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  const std::string lecture = lecture_file(tmp);
  const std::string a = tmp / "s1.png", b = tmp / "s2.png";
  ASSERT_EQ(
      gui::run_app(tmp, {"--lecture", lecture, "--present", "--frames", "3", "--screenshot", a}).rc,
      0);
  ASSERT_EQ(gui::run_app(tmp, {"--lecture", lecture, "--present", "--slide", "2", "--frames", "3",
                               "--screenshot", b})
                .rc,
            0);
  EXPECT_NE(gui::load_png(a).px, gui::load_png(b).px);
}

TEST(AppPresent, BrokenLectureIsShownNotFatal) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  const std::string lecture = tmp / "bad_lecture.json";
  gui::write_text(lecture, R"({ "version": 1, "title": "Bad", "scenes": [
    { "title": "Too many KV heads", "view": "groups", "scene": { "n_heads": 8, "n_kv_heads": 3 } } ] })");
  const std::string shot = tmp / "bad.png";
  const gui::RunResult r =
      gui::run_app(tmp, {"--lecture", lecture, "--present", "--frames", "3", "--screenshot", shot});
  ASSERT_EQ(r.rc, 0) << r.err;
  // The reason is printed on the slide in the warning colour, over the current scene.
  const gui::Image img = gui::load_png(shot);
  const gui::Rgb warn = gui::to_rgb(fig::rgb8(213, 94, 0));
  EXPECT_GT(img.count(warn, 0, 0, img.w, img.h / 3), 50);
}

namespace {

// The status JSON of a presentation run of the default lecture at `slide` (1-based).
nlohmann::json present_status(const gui::TempDir& tmp, int slide) {
  const gui::RunResult r = gui::run_app(
      tmp, {"--present", "--slide", std::to_string(slide), "--frames", "3", "--print-status"});
  EXPECT_EQ(r.rc, 0) << r.err;
  const size_t at = r.out.rfind('{', r.out.find("mask_grid_builds"));
  return at == std::string::npos ? nlohmann::json() : nlohmann::json::parse(r.out.substr(at));
}

const nlohmann::json* heatmap_with_id(const nlohmann::json& st, int id) {
  if (!st.contains("present_heatmaps")) return nullptr;
  for (const auto& h : st["present_heatmaps"])
    if (h["id"] == id) return &h;
  return nullptr;
}

}  // namespace

// Slide 9 (rolling buffer, W=4096, C=1024): the chunk x (cache + chunk) mask keeps a height
// worth reading and its labels do not overlap, as in the exported deck.
TEST(AppPresent, Slide9ChunkMaskKeepsItsHeightAndLabelsApart) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  const nlohmann::json st = present_status(tmp, 9);
  const nlohmann::json* chunk = heatmap_with_id(st, 4);  // fig::kRingChunkMaskHeatmapId
  ASSERT_NE(chunk, nullptr) << st.dump();
  EXPECT_GT((*chunk)["h"].get<double>(), 900 / 8.0) << "the mask collapsed to a line";
  EXPECT_EQ(st["present_overlaps"], 0) << "text labels overlap";
}

// Slide 5: the mask fills the height between the title and the caption (more than half the
// screen), not a fifth of it.
TEST(AppPresent, Slide5MaskFillsTheSlide) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  const nlohmann::json st = present_status(tmp, 5);
  const nlohmann::json* mask = heatmap_with_id(st, 1);  // fig::kMaskHeatmapId
  ASSERT_NE(mask, nullptr) << st.dump();
  EXPECT_GT((*mask)["h"].get<double>(), 900 * 0.5);
  EXPECT_EQ(st["present_overlaps"], 0);
}
