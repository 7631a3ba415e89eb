// Export from the app: --export-focused runs what Ctrl+E runs after the frames. The file is
// written, the folder and name are remembered in $XDG_CONFIG_HOME/attnlab/app.json, and an
// unwritable folder is an error with exit 2 and no file.
#include <nlohmann/json.hpp>

#include "core/export/export.h"
#include "core/figure/view_registry.h"
#include "core/scene/scene_json.h"
#include "gui_run.h"

namespace {

gui::RunResult export_focused(const gui::TempDir& tmp, const std::string& view,
                              const std::string& out) {
  const std::string scene = std::string(ATTNLAB_SCENE_DIR) + "/mistral_swa.json";
  return gui::run_app(tmp, {"--scene", scene, "--view", view, "--frames", "2", "--width", "800",
                            "--height", "600", "--export-focused", out});
}

}  // namespace

TEST(AppExport, FocusedPanelExportsSvgAndRemembersThePath) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  std::filesystem::create_directories(tmp.path / "figs");
  const std::string out = tmp / "figs/mask_slide.svg";
  const gui::RunResult r = export_focused(tmp, "mask", out);
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string svg = gui::read_text(out);
  EXPECT_NE(svg.find("<svg"), std::string::npos) << svg.substr(0, 200);
  const std::string cfg = gui::read_text(tmp / "config/attnlab/app.json");
  ASSERT_FALSE(cfg.empty()) << "settings not persisted";
  const nlohmann::json j = nlohmann::json::parse(cfg);
  EXPECT_EQ(j["export"]["folder"], (tmp.path / "figs").string());
  EXPECT_EQ(j["export"]["name"], "mask_slide");
  EXPECT_EQ(j["export"]["format"], "svg");
  EXPECT_EQ(j["export"]["panel"], "mask");
}

TEST(AppExport, PngHasTheFigureSizeTimesScale) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  const std::string out = tmp / "groups.png";
  const gui::RunResult r = export_focused(tmp, "groups", out);
  ASSERT_EQ(r.rc, 0) << r.err;
  const gui::Image img = gui::load_png(out);
  // The app's default export scale is 2 on the view's default page.
  std::vector<std::string> warnings;
  const core::Scene scene =
      core::load_scene(std::string(ATTNLAB_SCENE_DIR) + "/mistral_swa.json", warnings);
  const fig::Figure f = fig::build_view_figure("groups", scene, fig::theme_dark());
  const core::exp::PageSize page = core::exp::page_size(f, core::exp::ExportOptions{});
  EXPECT_EQ(img.w, static_cast<int>(std::lround(page.width * 2)));
  EXPECT_EQ(img.h, static_cast<int>(std::lround(page.height * 2)));
  EXPECT_GT(img.distinct_colours(0, 0, img.w, img.h), 8);
}

TEST(AppExport, UnwritableFolderIsAnErrorAndLeavesNoFile) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  const std::string out = tmp / "missing/folder/mask.pdf";
  const gui::RunResult r = export_focused(tmp, "mask", out);
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("missing/folder"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(tmp / "config/attnlab/app.json"));
}

TEST(AppExport, RememberedFolderIsUsedAndABrokenSettingsFileIsNotFatal) {
  ATTNLAB_NEED_DISPLAY();
  gui::TempDir tmp;
  std::filesystem::create_directories(tmp.path / "config/attnlab");
  gui::write_text(tmp / "config/attnlab/app.json", "{ not json");
  const std::string out = tmp / "ring.png";
  gui::RunResult r = export_focused(tmp, "ring", out);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(out));
  // The export rewrote the settings as valid JSON naming the folder it used.
  const nlohmann::json j = nlohmann::json::parse(gui::read_text(tmp / "config/attnlab/app.json"));
  EXPECT_EQ(j["export"]["folder"], tmp.path.string());
  EXPECT_EQ(j["export"]["format"], "png");
}
