// The live views in the real app under Xvfb with the real model (SmolLM2), checked for
// content: masked cells of the large attention map are exactly the background colour where
// attn::visible() is false and nowhere else; the ring's just-written slot moves with the
// generation; pooling K/V heads changes the GQA picture (one group frame instead of three);
// a GGUF that fails to load leaves the model running and the error on screen; the packed
// prompts scene keeps its prompts apart on screen; a sparse scene runs the model under its
// pattern.
// Skips when SmolLM2 is not downloaded. AppRun under xvfb-run (scripts/test does).
#include <gtest/gtest.h>
#include <stb/stb_image.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/attention/spec.h"
#include "core/io/atomic_write.h"
#include "core/model/forward.h"

namespace {

namespace fs = std::filesystem;

struct Image {
  int w = 0, h = 0;
  std::vector<uint8_t> px;  // RGB
  std::array<int, 3> at(int x, int y) const {
    const size_t i = (static_cast<size_t>(y) * w + x) * 3;
    return {px[i], px[i + 1], px[i + 2]};
  }
  int count(std::array<int, 3> c, int x0 = 0, int y0 = 0, int x1 = -1, int y1 = -1) const {
    int n = 0;
    for (int y = y0; y < (y1 < 0 ? h : y1); ++y)
      for (int x = x0; x < (x1 < 0 ? w : x1); ++x) n += at(x, y) == c;
    return n;
  }
};

Image load_png(const std::string& path) {
  Image im;
  int ch = 0;
  unsigned char* d = stbi_load(path.c_str(), &im.w, &im.h, &ch, 3);
  if (!d) return im;
  im.px.assign(d, d + static_cast<size_t>(im.w) * im.h * 3);
  stbi_image_free(d);
  return im;
}

bool have_model() {
  return fs::exists(core::model::resolve_model_path("smollm2"));
}

fs::path tmp_dir() {
  const fs::path d = fs::temp_directory_path() / ("attnlab_live_gui_" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

struct AppRun {
  int rc = -1;
  nlohmann::json status;
  Image shot;
  std::string out;
};

// Runs the app on a scene until the live session is idle; returns its status and screenshot.
AppRun run_app(const nlohmann::json& scene, const std::string& view, const std::string& extra,
               const std::string& name) {
  const fs::path dir = tmp_dir();
  const fs::path scene_path = dir / (name + ".json"), png = dir / (name + ".png");
  core::write_file_atomic(scene_path.string(), scene.dump(2));
  const std::string cmd = std::string(ATTNLAB_BINARY) + " --scene " + scene_path.string() +
                          " --view " + view + " --frames 3 --wait-idle --print-status" +
                          " --screenshot " + png.string() + " " + extra + " 2>&1";
  AppRun r;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p.get())) r.out += buf.data();
  r.rc = pclose(p.release());
  const size_t at = r.out.rfind("{\"started\"");
  if (at != std::string::npos) r.status = nlohmann::json::parse(r.out.substr(at), nullptr, false);
  r.shot = load_png(png.string());
  return r;
}

nlohmann::json base_scene(const std::string& prompt) {
  return {{"version", 1},
          {"preset", "custom"},
          {"model", "smollm2"},
          {"prompt", prompt},
          {"theme", "dark"}};
}

constexpr std::array<int, 3> kBackground = {0x1e, 0x1f, 0x24};  // fig::theme_dark().background

TEST(LiveGui, AttentionMaskedCellsAreExactlyBackground) {
  if (!have_model()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  nlohmann::json s = base_scene(
      "The secret word is umbrella. We talked about the weather and the trains. Then she "
      "asked me for the secret word, and I said it was");
  s["variant"] = {{"window", 6}};
  s["layer"] = 3;
  s["head"] = 1;
  const AppRun r = run_app(s, "live_attention", "", "attention");
  ASSERT_EQ(r.rc, 0) << r.out;
  ASSERT_TRUE(r.status.contains("attention_map")) << r.out;
  ASSERT_GT(r.shot.w, 0);
  EXPECT_EQ(r.status["backend"], "cpu");
  const auto& m = r.status["attention_map"];
  const int n = m["rows"];
  ASSERT_EQ(n, r.status["tokens"].get<int>());
  ASSERT_GT(n, 20);
  attn::MaskSpec spec;
  spec.kind = attn::MaskKind::SlidingWindow;
  spec.window = 6;
  spec.convention = attn::WindowConvention::IncludingSelf;
  const double x0 = m["x"], y0 = m["y"], cw = m["w"].get<double>() / n,
               ch = m["h"].get<double>() / n;
  ASSERT_GT(cw, 4) << "cells too small to sample";
  int masked = 0, shown = 0;
  for (int q = 0; q < n; ++q)
    for (int k = 0; k < n; ++k) {
      const int x = static_cast<int>(x0 + (k + 0.5) * cw),
                y = static_cast<int>(y0 + (q + 0.5) * ch);
      const bool bg = r.shot.at(x, y) == kBackground;
      if (attn::visible(q, k, spec)) {
        EXPECT_FALSE(bg) << "visible cell (" << q << "," << k << ") drawn as background";
        ++shown;
      } else {
        EXPECT_TRUE(bg) << "masked cell (" << q << "," << k << ") not background";
        ++masked;
      }
    }
  EXPECT_GT(masked, 0);
  EXPECT_GT(shown, 0);
}

// Bounding box of the exact highlight colour (the just-written slot's outline).
struct Box {
  int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;
};
Box find_color(const Image& im, std::array<int, 3> c, int min_x, int min_y) {
  Box b;
  for (int y = min_y; y < im.h; ++y)
    for (int x = min_x; x < im.w; ++x)
      if (im.at(x, y) == c) {
        b.x0 = std::min(b.x0, x);
        b.y0 = std::min(b.y0, y);
        b.x1 = std::max(b.x1, x);
        b.y1 = std::max(b.y1, y);
      }
  return b;
}

TEST(LiveGui, RingAfterThreeStepsMovesTheWriteAndMatchesFullCache) {
  if (!have_model()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  nlohmann::json s = base_scene("Once upon a time, in a small village by the sea,");
  s["window"] = 32;  // ring W when the live window is native
  const AppRun one = run_app(s, "live_ring", "--live-steps 1", "ring1");
  const AppRun three = run_app(s, "live_ring", "--live-steps 3", "ring3");
  ASSERT_EQ(three.rc, 0) << three.out;
  ASSERT_TRUE(three.status.contains("ring")) << three.out;
  EXPECT_EQ(three.status["generation_steps"], 3);
  const auto& ring = three.status["ring"];
  EXPECT_EQ(ring["window"], 32);
  const int n = ring["n_tokens"];
  EXPECT_EQ(ring["written_slot"], (n - 1) % 32);
  EXPECT_TRUE(ring["fits"].get<bool>());
  EXPECT_TRUE(ring["identical"].get<bool>()) << "N <= W: ring and full cache must agree";
  EXPECT_EQ(one.status["ring"]["written_slot"], (n - 3) % 32);
  // The thick highlight outline sits on the written slot: two slots further after 2 more steps.
  const std::array<int, 3> hl = {0xE6, 0x9F, 0x00};
  const int panel_x = 360;  // right of the controls column
  const int fig_y = static_cast<int>(three.status["canvas"]["live_ring"]["y"].get<double>());
  ASSERT_EQ(fig_y, static_cast<int>(one.status["canvas"]["live_ring"]["y"].get<double>()));
  const Box b1 = find_color(one.shot, hl, panel_x, fig_y),
            b3 = find_color(three.shot, hl, panel_x, fig_y);
  ASSERT_GT(b1.x1, 0);
  ASSERT_GT(b3.x1, 0);
  const int w1 = b1.x1 - b1.x0, w3 = b3.x1 - b3.x0;
  EXPECT_GT(w1, 20) << "a box, not a speck";
  // Same box size: each edge snaps to a pixel (+-1) and the outline colour blends one more.
  EXPECT_NEAR(w1, w3, 3);
  if ((n - 3) / 12 == (n - 1) / 12) {  // same row of 12 boxes: moved right by two boxes
    EXPECT_GT(b3.x0 - b1.x0, 2 * w1);
  }
}

TEST(LiveGui, PoolingChangesTheGroupsView) {
  if (!have_model()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  nlohmann::json s = base_scene("The capital of France is Paris. The capital of Italy is");
  s["layer"] = 2;
  const AppRun native = run_app(s, "live_groups", "", "groups_native");
  s["variant"] = {{"kv_heads", 1}};
  const AppRun pooled = run_app(s, "live_groups", "", "groups_pooled");
  ASSERT_EQ(native.rc, 0) << native.out;
  ASSERT_EQ(pooled.rc, 0) << pooled.out;
  EXPECT_EQ(native.status["kv_heads"], 3);
  EXPECT_EQ(pooled.status["kv_heads"], 1);
  ASSERT_TRUE(pooled.status.contains("ppl_variant")) << pooled.out;
  EXPECT_NE(pooled.status["ppl_variant"], pooled.status["ppl_native"]);
  ASSERT_EQ(native.shot.w, pooled.shot.w);
  int differ = 0;
  for (int y = 0; y < native.shot.h; ++y)
    for (int x = 360; x < native.shot.w; ++x)
      differ += native.shot.at(x, y) != pooled.shot.at(x, y);
  EXPECT_GT(differ, 1000);
  // Group frames use the palette colour of their K/V head (Okabe-Ito). Native: three frames
  // of three heads; pooled adds a row with a single frame around all nine heads in colour 0.
  const std::array<int, 3> kv0 = {0xE6, 0x9F, 0x00}, kv2 = {0x00, 0x9E, 0x73};
  const int n0 = native.shot.count(kv0, 360), p0 = pooled.shot.count(kv0, 360);
  const int n2 = native.shot.count(kv2, 360), p2 = pooled.shot.count(kv2, 360);
  EXPECT_GT(n2, 50) << "native shows the frame of K/V head 2";
  EXPECT_GT(p0, n0 + n0 / 2) << "the pooled row's one frame spans all heads";
  EXPECT_GT(p2, 0) << "the native row stays for comparison";
}

TEST(LiveGui, BadGgufKeepsPreviousModelAndShowsError) {
  if (!have_model()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  const fs::path bad = tmp_dir() / "broken.gguf";
  core::write_file_atomic(bad.string(), "GGUF\x03 this is not a model");
  const AppRun r = run_app(base_scene("Hello there, how are you?"), "live_attention",
                           "--live-then-model " + bad.string(), "badgguf");
  ASSERT_EQ(r.rc, 0) << r.out;
  const std::string err = r.status["error"];
  EXPECT_NE(err.find(bad.string()), std::string::npos) << err;
  EXPECT_NE(r.status["model_path"].get<std::string>().find("SmolLM2"), std::string::npos);
  EXPECT_GT(r.status["tokens"].get<int>(), 0) << "the previous model's pass is still shown";
  // The error line is drawn in the UI's error red.
  EXPECT_GT(r.shot.count({242, 89, 77}, 360), 20) << "no error text on screen";
}

// The Gemma-3 preset runs Gemma-3 (the preset names its model), on the default prompt when
// the scene has none: never SmolLM2, never one token.
TEST(LiveGui, Gemma3PresetRunsGemma3OnADefaultPrompt) {
  if (!fs::exists(core::model::resolve_model_path("gemma3")))
    GTEST_SKIP() << "Gemma-3 not downloaded (scripts/setup)";
  const nlohmann::json s = {{"version", 1}, {"preset", "Gemma-3-270M"}, {"seq_len", 64}};
  const AppRun r = run_app(s, "live_attention", "", "gemma3");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.status["model_path"].get<std::string>().find("gemma-3"), std::string::npos)
      << r.status.dump();
  const std::string prompt =
      core::read_file(std::string(ATTNLAB_ASSET_DIR) + "/prompts/recall.txt");
  EXPECT_EQ(r.status["prompt"], prompt);
  EXPECT_GT(r.status["tokens"].get<int>(), 20);
  EXPECT_EQ(r.status["error"], "");
}

// Loading a GGUF by path fills the "from model" architecture from its metadata, so the
// analytic views describe the model that runs (Gemma-3: 18 layers, W=512 on 5 of 6).
TEST(LiveGui, LoadedGgufFillsTheFromModelArchitecture) {
  const std::string gemma = core::model::resolve_model_path("gemma3");
  if (!have_model() || !fs::exists(gemma)) GTEST_SKIP() << "models not downloaded (scripts/setup)";
  const AppRun r = run_app(base_scene("Hello there, how are you?"), "live_attention",
                           "--live-then-model " + gemma, "from_model");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.status["model_path"], gemma);
  EXPECT_EQ(r.status["preset"], "from model");
  EXPECT_EQ(r.status["n_layers"], 18);
  EXPECT_EQ(r.status["window"], 512);
}

// Masked (background) pixels inside a heatmap's screen rectangle.
int background_in(const AppRun& r, const nlohmann::json& rect) {
  const int x0 = rect["x"].get<int>(), y0 = rect["y"].get<int>();
  return r.shot.count(kBackground, x0, y0, x0 + rect["w"].get<int>(), y0 + rect["h"].get<int>());
}

// One window: moving the window slider (scripted, after the first pass) changes the mask view
// and re-runs the live model with the same window; both show more masked cells for W=4.
TEST(LiveGui, OneWindowSliderMovesMaskAndLiveAttention) {
  if (!have_model()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  nlohmann::json s = base_scene(
      "The secret word is umbrella. We talked about the weather and the trains. Then she "
      "asked me for the secret word, and I said it was");
  s["mask"] = "sliding_window";
  s["window"] = 12;
  s["window_convention"] = "including_self";
  s["seq_len"] = 48;
  s["query"] = 47;
  const AppRun before = run_app(s, "live_attention", "--layout grid", "slider_before");
  const AppRun after =
      run_app(s, "live_attention", "--layout grid --live-then-window 4", "slider_after");
  ASSERT_EQ(before.rc, 0) << before.out;
  ASSERT_EQ(after.rc, 0) << after.out;
  EXPECT_EQ(before.status["pass_window"], 12);
  EXPECT_EQ(after.status["window"], 4);
  EXPECT_EQ(after.status["live_window"], 4);
  EXPECT_EQ(after.status["pass_window"], 4) << "the live model ran with the moved window";
  ASSERT_TRUE(after.status["heatmap"].contains("mask")) << after.out;
  ASSERT_TRUE(after.status.contains("attention_map")) << after.out;
  EXPECT_GT(background_in(after, after.status["heatmap"]["mask"]),
            background_in(before, before.status["heatmap"]["mask"]))
      << "the mask view did not follow the window";
  EXPECT_GT(background_in(after, after.status["attention_map"]),
            background_in(before, before.status["attention_map"]))
      << "the live attention did not follow the window";
}

// The shipped packed-prompts scene on the live model: the prompt is cut to the segments' sum
// and the large map is background exactly across prompts (segment ends from the scene's
// lengths, checked with attn::visible).
TEST(LiveGui, PackedPromptsSceneKeepsPromptsApart) {
  if (!have_model()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  nlohmann::json s = nlohmann::json::parse(
      core::read_file(std::string(ATTNLAB_SCENE_DIR) + "/packed_prompts.json"));
  s["layer"] = 2;
  const AppRun r = run_app(s, "live_attention", "", "packed");
  ASSERT_EQ(r.rc, 0) << r.out;
  ASSERT_TRUE(r.status.contains("attention_map")) << r.out;
  EXPECT_EQ(r.status["error"], "") << r.out;
  std::vector<int32_t> ends;
  int sum = 0;
  for (int len : s["segments"].get<std::vector<int>>()) ends.push_back(sum += len);
  const auto& m = r.status["attention_map"];
  const int n = m["rows"];
  ASSERT_EQ(n, sum);
  attn::MaskSpec spec;
  spec.kind = attn::MaskKind::BlockDiagonal;
  spec.segment_ends = ends.data();
  spec.n_segments = static_cast<int32_t>(ends.size());
  const double x0 = m["x"], y0 = m["y"], cw = m["w"].get<double>() / n,
               ch = m["h"].get<double>() / n;
  ASSERT_GT(cw, 4) << "cells too small to sample";
  int across = 0;
  for (int q = 0; q < n; ++q)
    for (int k = 0; k < n; ++k) {
      const int x = static_cast<int>(x0 + (k + 0.5) * cw),
                y = static_cast<int>(y0 + (q + 0.5) * ch);
      const bool bg = r.shot.at(x, y) == kBackground;
      EXPECT_EQ(bg, !attn::visible(q, k, spec)) << "cell (" << q << "," << k << ")";
      across += k <= q && !attn::visible(q, k, spec);
    }
  EXPECT_GT(across, 0);
}

// The flash view traces synthetic rows until --trace-model (its button) loads the model; then
// its row is the model's own layer 2, head 1, checked against float64 and against the
// probabilities the model's attention produced.
TEST(LiveGui, FlashTraceRunsOnTheModelsOwnRows) {
  if (!have_model()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  nlohmann::json s = base_scene("The capital of France is Paris. The capital of Italy is");
  s["preset"] = "SmolLM2-135M";
  s["mask"] = "causal";
  s["seq_len"] = 64;
  s["query"] = 63;
  s["layer"] = 2;
  s["head"] = 1;
  s["flash"] = {{"sram_bytes", 4096}, {"version", 1}};
  const AppRun plain = run_app(s, "flash", "", "flash_plain");
  const AppRun traced = run_app(s, "flash", "--trace-model", "flash_traced");
  ASSERT_EQ(plain.rc, 0) << plain.out;
  ASSERT_EQ(traced.rc, 0) << traced.out;
  ASSERT_TRUE(plain.status.contains("flash_trace")) << plain.out;
  EXPECT_FALSE(plain.status["flash_trace"]["from_model"].get<bool>());
  EXPECT_NE(plain.status["flash_trace"]["source"].get<std::string>().find("no model loaded"),
            std::string::npos);
  ASSERT_TRUE(traced.status.contains("flash_trace")) << traced.out;
  const auto& t = traced.status["flash_trace"];
  EXPECT_TRUE(t["from_model"].get<bool>()) << t.dump();
  EXPECT_NE(t["source"].get<std::string>().find("layer 2, head 1"), std::string::npos);
  EXPECT_EQ(t["query"].get<int>() + 1, traced.status["tokens"].get<int>())
      << "query 63 is past the prompt: the last row";
  EXPECT_GE(t["max_prob_diff_model"].get<double>(), 0.0) << "compared with the model's row";
}

// A scene with the sparse mask runs the live model under it: the large map is background
// exactly where spec.h's Sparse rule hides a key, and the status quotes the rule's pairs
// (counted here) and a perplexity under the pattern that differs from the dense one.
TEST(LiveGui, SparseSceneRunsThePatternOnTheLiveModel) {
  if (!have_model()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup)";
  nlohmann::json s = base_scene(
      "The secret word is umbrella. We talked about the weather and the trains. Then she "
      "asked me for the secret word, and I said it was");
  s["window"] = 0;
  s["mask"] = "sparse";
  s["sparse"] = {{"global", 2}, {"local", 5}, {"random", 2}, {"seed", 9}};
  s["layer"] = 2;
  const AppRun r = run_app(s, "live_attention", "", "sparse");
  ASSERT_EQ(r.rc, 0) << r.out;
  ASSERT_TRUE(r.status.contains("attention_map") && r.status.contains("sparse")) << r.out;
  const auto& m = r.status["attention_map"];
  const int n = m["rows"];
  ASSERT_EQ(n, r.status["tokens"].get<int>());
  attn::MaskSpec spec;
  spec.kind = attn::MaskKind::Sparse;
  spec.sparse_global = 2;
  spec.sparse_local = 5;
  spec.sparse_random = 2;
  spec.sparse_seed = 9;
  const double x0 = m["x"], y0 = m["y"], cw = m["w"].get<double>() / n,
               ch = m["h"].get<double>() / n;
  ASSERT_GT(cw, 4) << "cells too small to sample";
  int64_t pairs = 0;
  for (int q = 0; q < n; ++q)
    for (int k = 0; k < n; ++k) {
      const int x = static_cast<int>(x0 + (k + 0.5) * cw),
                y = static_cast<int>(y0 + (q + 0.5) * ch);
      const bool vis = attn::visible(q, k, spec);
      pairs += vis ? 1 : 0;
      EXPECT_EQ(r.shot.at(x, y) == kBackground, !vis) << "cell (" << q << "," << k << ")";
    }
  EXPECT_EQ(r.status["sparse"]["visible_pairs"].get<int64_t>(), pairs);
  EXPECT_EQ(r.status["sparse"]["dense_pairs"].get<int64_t>(), int64_t{n} * (n + 1) / 2);
  ASSERT_TRUE(r.status.contains("ppl_variant")) << r.out;
  EXPECT_NE(r.status["ppl_variant"], r.status["ppl_native"]);
}

}  // namespace
