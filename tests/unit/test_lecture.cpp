// Lectures: the shipped deck's captions quote numbers that `attnlab stats` reproduces, every
// slide exports, and a broken lecture names the file, the scene and the key.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "core/cli/commands.h"
#include "core/export/export.h"
#include "core/figure/axes.h"
#include "core/figure/theme.h"
#include "core/figure/view_registry.h"
#include "core/scene/lecture.h"
#include "core/scene/scene_json.h"

namespace {

const std::string kLecture = std::string(ATTNLAB_ASSET_DIR) + "/lectures/attention-efficiency.json";

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/attnlab_lecture_test.XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string p = path + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
};

// The message of the SceneError that loading `path` throws ("" when it loads).
std::string load_error(const std::string& path) {
  try {
    core::load_lecture(path);
  } catch (const core::SceneError& e) {
    return e.what();
  }
  return "";
}

// `needle` occurs in `hay` and is not part of a longer number (so "952" does not match 1952).
bool contains_number(const std::string& hay, const std::string& needle) {
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) {
    const bool left_ok = p == 0 || !(std::isdigit(static_cast<unsigned char>(hay[p - 1])) ||
                                     hay[p - 1] == ',' || hay[p - 1] == '.');
    const size_t e = p + needle.size();
    const bool right_ok =
        e >= hay.size() || !(std::isdigit(static_cast<unsigned char>(hay[e])) ||
                             (hay[e] == ',' && e + 1 < hay.size() &&
                              std::isdigit(static_cast<unsigned char>(hay[e + 1]))));
    if (left_ok && right_ok) return true;
  }
  return false;
}

TEST(Lecture, ShippedLectureLoads) {
  const core::Lecture lec = core::load_lecture(kLecture);
  EXPECT_EQ(lec.version, 1);
  EXPECT_FALSE(lec.title.empty());
  EXPECT_EQ(lec.path, kLecture);
  EXPECT_GE(lec.slides.size(), 10u);
  std::set<std::string> presets, views;
  for (const core::LectureSlide& s : lec.slides) {
    EXPECT_FALSE(s.title.empty());
    EXPECT_FALSE(s.caption.empty()) << s.title;
    EXPECT_EQ(s.scene.title, s.title);
    EXPECT_EQ(s.scene.caption, s.caption);
    EXPECT_FALSE(s.checks.empty()) << s.title;
    presets.insert(s.scene.preset);
    views.insert(s.scene.view);
  }
  // MHA -> MQA -> GQA -> SWA -> receptive field -> rolling buffer -> KV memory, real presets.
  for (const char* p :
       {"Llama-2-7B", "Llama-2-70B", "Mistral-7B", "Mixtral-8x7B", "Gemma-3-270M", "SmolLM2-135M"})
    EXPECT_TRUE(presets.count(p)) << p;
  for (const fig::ViewEntry* id : fig::analytic_views()) EXPECT_TRUE(views.count(id->id)) << id->id;
}

// Every number a caption states is recomputed from the scene, and must appear in the caption
// as written (plain or with thousands separators), so caption and stats cannot drift apart.
TEST(Lecture, CaptionNumbersMatchStats) {
  const core::Lecture lec = core::load_lecture(kLecture);
  for (const core::LectureSlide& s : lec.slides) {
    SCOPED_TRACE(s.title);
    const nlohmann::ordered_json stats = core::cli::scene_stats(s.scene);
    for (auto it = s.checks.begin(); it != s.checks.end(); ++it) {
      const nlohmann::ordered_json* got = core::find_dotted(stats, it.key());
      ASSERT_NE(got, nullptr) << "no stats key " << it.key();
      if (it->is_number_integer()) {
        ASSERT_TRUE(got->is_number_integer()) << it.key() << " = " << got->dump();
        const int64_t want = it->get<int64_t>();
        EXPECT_EQ(got->get<int64_t>(), want) << it.key();
        EXPECT_TRUE(contains_number(s.caption, std::to_string(want)) ||
                    contains_number(s.caption, fig::format_count(want)))
            << it.key() << " = " << want << " is not in the caption: " << s.caption;
      } else if (it->is_string()) {
        EXPECT_EQ(*got, *it) << it.key();
        EXPECT_NE(s.caption.find(it->get<std::string>()), std::string::npos)
            << it.key() << " = " << *it << " is not in the caption";
      } else {
        EXPECT_EQ(*got, *it) << it.key();
      }
    }
  }
}

TEST(Lecture, EverySlideExportsAndKeepsItsTextOnThePage) {
  const core::Lecture lec = core::load_lecture(kLecture);
  std::vector<fig::Figure> deck;
  for (const core::LectureSlide& s : lec.slides) {
    SCOPED_TRACE(s.title);
    const fig::ViewEntry* id = fig::find_view(s.scene.view);
    for (const auto& [theme, size] : {std::pair{fig::theme_slides(), fig::FigureSize{1280, 720}},
                                      std::pair{fig::theme_dark(), fig::FigureSize{}}}) {
      const fig::Figure f = fig::build_view_figure(*id, s.scene, theme, size);
      EXPECT_EQ(f.title, s.title);
      for (const core::exp::TextOverflow& o : core::exp::texts_outside(f))
        ADD_FAILURE() << theme.name << ": '" << o.text << "' leaves the page";
      for (core::exp::Format fmt :
           {core::exp::Format::Png, core::exp::Format::Svg, core::exp::Format::Pdf}) {
        core::exp::ExportOptions o;
        o.format = fmt;
        EXPECT_GT(core::exp::render_figure(f, o).size(), 1000u);
      }
      if (theme.name == "slides") deck.push_back(f);
    }
  }
  TempDir dir;
  core::exp::export_pdf_deck(deck, dir.path + "/deck.pdf", core::exp::ExportOptions{});
  EXPECT_TRUE(std::filesystem::exists(dir.path + "/deck.pdf"));
}

TEST(Lecture, FindDotted) {
  const nlohmann::ordered_json j = {{"a", {{"b", {10, 20, 30}}, {"c", "x"}}}};
  ASSERT_NE(core::find_dotted(j, "a.b.2"), nullptr);
  EXPECT_EQ(*core::find_dotted(j, "a.b.2"), 30);
  EXPECT_EQ(*core::find_dotted(j, "a.c"), "x");
  EXPECT_EQ(core::find_dotted(j, "a.b.3"), nullptr);
  EXPECT_EQ(core::find_dotted(j, "a.d"), nullptr);
  EXPECT_EQ(core::find_dotted(j, "a.c.x"), nullptr);
  EXPECT_EQ(core::find_dotted(j, "a.b.-1"), nullptr);
}

TEST(Lecture, BadSceneNamesFileSceneAndKey) {
  TempDir dir;
  const std::string path = dir.write("bad.json", R"({"version": 1, "title": "t", "scenes": [
    {"title": "Fine", "scene": {"preset": "Mistral-7B"}},
    {"title": "Broken GQA", "scene": {"preset": "Llama-2-70B", "n_kv_heads": 7}}]})");
  const std::string msg = load_error(path);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("scene 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Broken GQA"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'scene.n_kv_heads'"), std::string::npos) << msg;
}

TEST(Lecture, OtherErrorsNameTheProblem) {
  TempDir dir;
  const struct {
    const char* text;
    const char* want;  // must appear in the message
  } cases[] = {
      {R"({"scenes": [)", "invalid JSON"},
      {R"([1, 2])", "a lecture is a JSON object"},
      {R"({"title": "t"})", "'scenes' is missing"},
      {R"({"scenes": []})", "non-empty list"},
      {R"({"version": 2, "scenes": [{"title": "a", "scene": {}}]})", "'version'"},
      {R"({"scenes": [{"scene": {}}]})", "scene 1: key 'title' is missing"},
      {R"({"scenes": [{"title": "a"}]})", "key 'scene' is missing"},
      {R"({"scenes": [{"title": "a", "scene": {}, "file": "x.json"}]})", "not both"},
      {R"({"scenes": [{"title": "a", "view": "heads", "scene": {}}]})",
       "key 'view': unknown view \"heads\""},
      {R"({"scenes": [{"title": "a", "scene": {"seq_len": 0}}]})", "key 'scene.seq_len'"},
      {R"({"scenes": [{"title": "a", "scene": {"mask": "diagonal"}}]})", "key 'scene.mask'"},
      {R"({"scenes": [{"title": "a", "scene": {}, "checks": [1]}]})", "key 'checks'"},
      {R"({"scenes": [{"title": "a", "scene": {}, "checks": {"x": [1]}}]})", "key 'checks.x'"},
      {R"({"scenes": [{"title": "a", "caption": 3, "scene": {}}]})", "key 'caption'"},
      {R"({"scenes": [{"title": "a", "file": "missing.json"}]})", "missing.json"},
  };
  for (const auto& c : cases) {
    const std::string path = dir.write("l.json", c.text);
    const std::string msg = load_error(path);
    EXPECT_NE(msg.find(path), std::string::npos) << c.text << " -> " << msg;
    EXPECT_NE(msg.find(c.want), std::string::npos) << c.text << " -> " << msg;
  }
  EXPECT_NE(load_error(dir.path + "/nope.json").find("nope.json"), std::string::npos);
}

TEST(Lecture, SceneFilesResolveNextToTheLecture) {
  TempDir dir;
  std::filesystem::create_directory(dir.path + "/scenes");
  dir.write("scenes/gqa.json", R"({"preset": "Llama-2-70B", "seq_len": 128, "view": "groups"})");
  dir.write("scenes/broken.json", R"({"preset": "Llama-2-70B", "head_dim": -1})");
  const std::string ok = dir.write("ok.json", R"({"scenes": [
    {"title": "From a file", "caption": "c", "file": "scenes/gqa.json", "view": "kv_memory",
     "unknown": 1}]})");
  std::vector<std::string> warnings;
  const core::Lecture lec = core::load_lecture(ok, warnings);
  ASSERT_EQ(lec.slides.size(), 1u);
  EXPECT_EQ(lec.slides[0].scene.preset, "Llama-2-70B");
  EXPECT_EQ(lec.slides[0].scene.seq_len, 128);
  EXPECT_EQ(lec.slides[0].scene.view, "kv_memory");  // the slide's view wins
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("unknown key 'unknown'"), std::string::npos) << warnings[0];

  const std::string bad = dir.write("bad.json", R"({"scenes": [
    {"title": "Broken file", "file": "scenes/broken.json"}]})");
  const std::string msg = load_error(bad);
  EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  EXPECT_NE(msg.find("scenes/broken.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("head_dim"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Broken file"), std::string::npos) << msg;
}

}  // namespace
