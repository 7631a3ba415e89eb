// The app's failure modes: no display, a bad scene file, a bad flag. None of these needs a
// display, so they run everywhere.
#include "gui_run.h"

TEST(AppCli, NoDisplayExitsOneWithAClearMessage) {
  gui::TempDir tmp;
  const gui::RunResult r = gui::run_app(tmp, {"--frames", "1"}, "-u DISPLAY -u WAYLAND_DISPLAY");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("DISPLAY"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("xvfb-run"), std::string::npos) << r.err;
}

TEST(AppCli, InvalidSceneJsonExitsTwoNamingFileAndByte) {
  gui::TempDir tmp;
  const std::string path = tmp / "broken.json";
  gui::write_text(path, "{ \"seq_len\": 64, \"window\": }");
  const gui::RunResult r = gui::run_app(tmp, {"--scene", path, "--frames", "1"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("broken.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("byte"), std::string::npos) << r.err;
}

TEST(AppCli, OutOfRangeSceneExitsTwoNamingTheKey) {
  gui::TempDir tmp;
  const std::string path = tmp / "range.json";
  gui::write_text(path, R"({ "seq_len": 64, "n_heads": 32, "n_kv_heads": 5 })");
  const gui::RunResult r = gui::run_app(tmp, {"--scene", path, "--frames", "1"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("n_kv_heads"), std::string::npos) << r.err;
}

TEST(AppCli, MissingSceneAndBadFlagsExitTwo) {
  gui::TempDir tmp;
  gui::RunResult r = gui::run_app(tmp, {"--scene", tmp / "nope.json"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("nope.json"), std::string::npos) << r.err;
  r = gui::run_app(tmp, {"--frames", "zero"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--frames"), std::string::npos) << r.err;
  r = gui::run_app(tmp, {"--view", "nonsense", "--frames", "1"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("nonsense"), std::string::npos) << r.err;
}
