// `attnlab export` end to end: the real binary, no display, exit codes, files and messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/figure/view_registry.h"
#include "core/model/forward.h"
#include "export_test_util.h"

namespace {

using namespace export_test;

const std::string kBin = ATTNLAB_BINARY;
const std::string kScenes = std::string(ATTNLAB_ASSET_DIR) + "/scenes/";
const std::string kLecture = std::string(ATTNLAB_ASSET_DIR) + "/lectures/attention-efficiency.json";

// Runs `attnlab export ARGS` with no display.
RunResult export_cmd(const std::string& args) {
  return run("env -u DISPLAY -u WAYLAND_DISPLAY " + kBin + " export " + args);
}

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ExportCli, OneViewFormatFromTheExtension) {
  TempDir dir;
  const RunResult r =
      export_cmd("--scene " + kScenes + "mistral_swa.json --view mask --out " + (dir / "m.svg"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(slurp(dir / "m.svg").find("<svg"), std::string::npos);
  const RunResult p = export_cmd("--scene " + kScenes + "mistral_swa.json --out " + (dir / "x") +
                                 " --format png --scale 4 --theme screen");
  ASSERT_EQ(p.code, 0) << p.out;
  const std::string png = slurp(dir / "x");
  ASSERT_GT(png.size(), 24u);
  const auto* b = reinterpret_cast<const unsigned char*>(png.data());
  EXPECT_EQ((b[16] << 24) | (b[17] << 16) | (b[18] << 8) | b[19], 3840);  // 960 units x 4
}

bool have_model(const std::string& name) {
  return std::filesystem::exists(core::model::resolve_model_path(name));
}

#define NEED_MODEL_FILE(name) \
  if (!have_model(name)) GTEST_SKIP() << name << " not downloaded (scripts/setup)"

// gemma3_swa.json names the Gemma-3 preset, so it runs Gemma-3: --view all writes the five
// analytic views and the five live ones.
TEST(ExportCli, ViewAllWritesEveryViewInEveryFormat) {
  NEED_MODEL_FILE("gemma3");
  TempDir dir;
  for (const char* fmt : {"pdf", "svg", "png"}) {
    const std::string out = dir / (std::string("all_") + fmt);  // created: its parent exists
    const RunResult r = export_cmd("--scene " + kScenes + "gemma3_swa.json --view all --format " +
                                   fmt + " --out " + out + " --caption 'A caption from the CLI'");
    ASSERT_EQ(r.code, 0) << r.out;
    std::vector<std::string> want;
    for (const fig::ViewEntry& e : fig::view_entries()) want.push_back(e.id + "." + fmt);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(want.size(), 14u);
    EXPECT_EQ(listing(out), want);
  }
}

// The live attention view exported headless is the model's map: the default prompt's tokens
// label its axes and the title names the model that ran (not a placeholder).
TEST(ExportCli, LiveAttentionRunsTheModelHeadless) {
  NEED_MODEL_FILE("smollm2");
  TempDir dir;
  const std::string scene = dir / "live.json";
  spit(scene, R"({"preset": "SmolLM2-135M", "seq_len": 64, "view": "live_attention"})");
  const RunResult pdf =
      export_cmd("--scene " + scene + " --view live_attention --out " + (dir / "F.pdf"));
  ASSERT_EQ(pdf.code, 0) << pdf.out;
  EXPECT_EQ(slurp(dir / "F.pdf").rfind("%PDF", 0), 0u);
  // The scene's own view is a live view: the normal path, without --view.
  const RunResult png = export_cmd("--scene " + scene + " --out " + (dir / "F.png"));
  ASSERT_EQ(png.code, 0) << png.out;
  // A map of probabilities has many colours; the "loading the model..." placeholder has a
  // background and grey text only.
  const Rgb img = decode_png(slurp(dir / "F.png"));
  ASSERT_GT(img.w, 0);
  std::set<int> colours;
  for (size_t i = 0; i + 2 < img.px.size(); i += 3)
    colours.insert(img.px[i] << 16 | img.px[i + 1] << 8 | img.px[i + 2]);
  EXPECT_GT(colours.size(), 200u);
  EXPECT_NE(slurp(dir / "F.pdf").find("/Image"), std::string::npos) << "the heatmap image";
}

TEST(ExportCli, LayerOutsideTheModelIsExit2WithTheRange) {
  NEED_MODEL_FILE("smollm2");
  TempDir dir;
  const std::string scene = dir / "bad.json";
  spit(scene, R"({"preset": "Llama-2-70B", "layer": 70, "view": "live_attention"})");
  const RunResult r = export_cmd("--scene " + scene + " --out " + (dir / "x.pdf"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("layer 70"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0..29"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.pdf"));
}

TEST(ExportCli, SameBytesAcrossRuns) {
  TempDir dir;
  for (const char* fmt : {"pdf", "svg", "png"}) {
    for (const fig::ViewEntry* id : fig::analytic_views()) {
      for (const char* name : {"a", "b"}) {
        const RunResult r =
            export_cmd("--scene " + kScenes + "ring_chunked.json --view " + id->id + " --format " +
                       fmt + " --out " + (dir / (std::string(name) + id->id + "." + fmt)));
        ASSERT_EQ(r.code, 0) << r.out;
      }
      const std::string file = id->id + "." + fmt;
      EXPECT_EQ(slurp(dir / ("a" + file)), slurp(dir / ("b" + file))) << file;
    }
  }
}

TEST(ExportCli, MissingFolderIsExit2WithNoFile) {
  TempDir dir;
  const std::string out = dir / "no/such/folder/fig.pdf";
  const RunResult r = export_cmd("--scene " + kScenes + "sparse.json --view mask --out " + out);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(out), std::string::npos) << r.out;
  EXPECT_TRUE(listing(dir.path).empty());
  // --view all into a folder whose parent is missing: no tree of folders appears.
  const RunResult all =
      export_cmd("--scene " + kScenes + "sparse.json --view all --out " + (dir / "no/such"));
  EXPECT_EQ(all.code, 2) << all.out;
  EXPECT_NE(all.out.find(dir / "no/such"), std::string::npos) << all.out;
  EXPECT_TRUE(listing(dir.path).empty());
}

TEST(ExportCli, FailedExportKeepsTheExistingFile) {
  TempDir dir;
  spit(dir / "keep.pdf", "previous slide");
  // The target is unwritable for the rename (a folder is in the way of the temp's sibling).
  std::filesystem::create_directory(dir / "busy.pdf");
  const RunResult r = export_cmd("--scene " + kScenes + "sparse.json --out " + (dir / "busy.pdf"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(dir / "busy.pdf"), std::string::npos) << r.out;
  // Bad options never touch the file.
  const RunResult s =
      export_cmd("--scene " + kScenes + "sparse.json --out " + (dir / "keep.pdf") + " --scale 12");
  EXPECT_EQ(s.code, 2) << s.out;
  EXPECT_EQ(slurp(dir / "keep.pdf"), "previous slide");
  EXPECT_EQ(listing(dir.path), (std::vector<std::string>{"busy.pdf", "keep.pdf"}));
}

TEST(ExportCli, BadInputIsExit2WithAClearMessage) {
  TempDir dir;
  spit(dir / "bad.json", R"({"preset": "Llama-2-70B", "n_kv_heads": 5})");
  const std::string scene = "--scene " + kScenes + "sparse.json ";
  const struct {
    std::string args, want;
  } cases[] = {
      {"", "give exactly one of --scene and --lecture"},
      {scene, "--out is required"},
      {scene + "--view heads --out x.pdf", "unknown view 'heads'"},
      {scene + "--format jpg --out x.jpg", "unknown format 'jpg'"},
      {scene + "--theme neon --out x.pdf", "unknown theme 'neon'"},
      {scene + "--width 800 --out x.pdf", "--width and --height go together"},
      {scene + "--width 10 --height 10 --out x.pdf", "64..16384"},
      {scene + "--scale abc --out x.png", "'abc' is not a number"},
      {scene + "--bogus --out x.pdf", "unknown argument '--bogus'"},
      {"--scene " + (dir / "bad.json") + " --out " + (dir / "x.pdf"), "n_kv_heads"},
      {"--scene " + (dir / "missing.json") + " --out " + (dir / "x.pdf"), "missing.json"},
      {"--lecture " + kLecture + " --caption c --out " + (dir / "d"),
       "--caption applies to --scene"},
  };
  for (const auto& c : cases) {
    const RunResult r = export_cmd(c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.want), std::string::npos) << c.args << "\n" << r.out;
  }
  EXPECT_EQ(listing(dir.path), std::vector<std::string>{"bad.json"});
}

TEST(ExportCli, LectureWritesOneFilePerSlideAndADeck) {
  TempDir dir;
  const RunResult r = export_cmd("--lecture " + kLecture + " --out " + (dir / "deck"));
  ASSERT_EQ(r.code, 0) << r.out;
  const std::vector<std::string> files = listing(dir / "deck");
  ASSERT_GE(files.size(), 11u);
  EXPECT_EQ(files.back(), "deck.pdf");
  EXPECT_EQ(files.front().substr(0, 3), "01-");
  for (const std::string& f : files) EXPECT_EQ(f.substr(f.size() - 4), ".pdf") << f;
  if (have_tool("pdfinfo")) {
    const RunResult info = run("pdfinfo " + (dir / "deck/deck.pdf"));
    const size_t p = info.out.find("Pages:");
    ASSERT_NE(p, std::string::npos) << info.out;
    EXPECT_EQ(std::stoul(info.out.substr(p + 6)), files.size() - 1);
    EXPECT_NE(info.out.find("1280 x 720 pts"), std::string::npos) << info.out;
  }
  // --view all: every view of every slide, as SVG (no deck).
  const RunResult all =
      export_cmd("--lecture " + kLecture + " --view all --format svg --out " + (dir / "svg"));
  ASSERT_EQ(all.code, 0) << all.out;
  EXPECT_EQ(listing(dir / "svg").size(), (files.size() - 1) * fig::analytic_views().size());
}

TEST(ExportCli, BadLectureNamesTheScene) {
  TempDir dir;
  spit(dir / "l.json", R"({"scenes": [{"title": "One", "scene": {}},
                                       {"title": "Two", "scene": {"window": -3}}]})");
  const RunResult r = export_cmd("--lecture " + (dir / "l.json") + " --out " + (dir / "out"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("scene 2 (\"Two\")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("'scene.window'"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

}  // namespace
