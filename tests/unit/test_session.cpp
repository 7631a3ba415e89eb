// core::Session splits the scene into architecture, run and look: a change bumps only the
// revisions of the parts it touches; the live run follows the scene's one window; layer, head
// and K/V heads are checked against the model; old scene files keep loading.
#include <gtest/gtest.h>

#include "core/scene/presets.h"
#include "core/scene/scene_json.h"
#include "core/session/session.h"

namespace {

struct Revs {
  uint64_t arch, run, look;
};

Revs revs(const core::Session& s) {
  return {s.part_revision(core::kArchitecture), s.part_revision(core::kRun),
          s.part_revision(core::kLook)};
}

// Applies `edit` to the session's scene and reports which parts moved.
std::string moved(core::Session& session, void (*edit)(core::Scene&)) {
  const Revs a = revs(session);
  core::Scene s = session.scene();
  edit(s);
  session.update(s);
  const Revs b = revs(session);
  std::string out;
  if (b.arch != a.arch) out += "arch ";
  if (b.run != a.run) out += "run ";
  if (b.look != a.look) out += "look ";
  return out;
}

TEST(Session, AChangeBumpsOnlyThePartsItTouches) {
  core::Session session;
  core::Scene s;
  s.mask = attn::MaskKind::SlidingWindow;
  s.window = 16;
  session.update(s);
  EXPECT_EQ(moved(session, [](core::Scene&) {}), "");
  EXPECT_EQ(moved(session, [](core::Scene& x) { x.theme = "light"; }), "look ");
  EXPECT_EQ(moved(session, [](core::Scene& x) { x.layer = 3; }), "look ");
  EXPECT_EQ(moved(session, [](core::Scene& x) { x.prompt = "Hello"; }), "run ");
  EXPECT_EQ(moved(session, [](core::Scene& x) { x.variant.kv_heads = 1; }), "run ");
  EXPECT_EQ(moved(session, [](core::Scene& x) { x.seq_len = 128; }), "arch ");
  // The one window drives the mask and the live model.
  EXPECT_EQ(moved(session, [](core::Scene& x) { x.window = 8; }), "arch run ");
  // With the model's own windows the pass keeps them; the window is still the ring's W.
  EXPECT_EQ(moved(session, [](core::Scene& x) { x.model_windows = true; }), "run ");
  EXPECT_EQ(core::live_run(session.scene(), "x").variant.window, 0);
  EXPECT_EQ(moved(session, [](core::Scene& x) { x.window = 4; }), "arch run ");
  EXPECT_EQ(core::live_run(session.scene(), "x").variant.window, 0);
  EXPECT_EQ(core::live_run(session.scene(), "x").ring_window, 4);
  // A view's revision is the sum over its parts: it moves when any of them does.
  const uint64_t v = session.revision(core::kArchitecture | core::kLook);
  session.touch(core::kLook);
  EXPECT_GT(session.revision(core::kArchitecture | core::kLook), v);
}

TEST(Session, LiveRunFollowsTheSceneWindow) {
  core::Scene s;
  s.mask = attn::MaskKind::SlidingWindow;
  s.window = 6;
  s.window_convention = attn::WindowConvention::IncludingSelf;
  core::LiveRun r = core::live_run(s, "fallback");
  EXPECT_EQ(r.variant.window, 6);
  EXPECT_EQ(r.variant.window_convention, attn::WindowConvention::IncludingSelf);
  EXPECT_TRUE(r.variant.window_layers.empty());
  EXPECT_EQ(r.prompt, "fallback") << "an empty prompt runs the default one";
  EXPECT_EQ(r.ring_window, 6);
  s.model_windows = true;
  EXPECT_EQ(core::live_run(s, "x").variant.window, 0);
  s.model_windows = false;
  s.mask = attn::MaskKind::Causal;
  EXPECT_EQ(core::live_run(s, "x").variant.window, 0) << "no window in the scene: native";
  // Gemma-3: the window on the local layers only (every 6th layer is global).
  core::apply_preset(s, "Gemma-3-270M");
  r = core::live_run(s, "x");
  EXPECT_EQ(r.variant.window, 512);
  ASSERT_EQ(r.variant.window_layers.size(), 15u);
  for (int l : r.variant.window_layers) EXPECT_NE((l + 1) % 6, 0) << l;
  EXPECT_FALSE(core::default_prompt().empty());
}

TEST(Session, PresetsBringTheirModelAndOldWindowKeysLoad) {
  std::vector<std::string> w;
  EXPECT_EQ(core::scene_from_json_text(R"({"preset": "Gemma-3-270M"})", "t", w).model, "gemma3");
  EXPECT_EQ(core::scene_from_json_text(R"({"preset": "SmolLM2-135M"})", "t", w).model, "smollm2");
  EXPECT_EQ(
      core::scene_from_json_text(R"({"preset": "Gemma-3-270M", "model": "smollm2"})", "t", w).model,
      "smollm2")
      << "an explicit model wins";
  w.clear();
  const core::Scene old = core::scene_from_json_text(
      R"({"mask": "causal", "variant": {"window": 6, "window_convention": "including_self"}})", "t",
      w);
  EXPECT_EQ(old.window, 6);
  EXPECT_EQ(old.mask, attn::MaskKind::SlidingWindow);
  EXPECT_EQ(old.window_convention, attn::WindowConvention::IncludingSelf);
  EXPECT_EQ(core::live_run(old, "x").variant.window, 6);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("variant.window"), std::string::npos) << w[0];
}

TEST(Session, LayerAndHeadAreCheckedAgainstTheModelAndSavedScenesLoad) {
  core::Scene s;
  core::apply_preset(s, "Gemma-3-270M");
  s.layer = 25;  // SmolLM2 has 30 layers, the Gemma-3 preset 18
  s.head = 8;
  std::vector<std::string> w;
  const core::Scene again =
      core::scene_from_json_text(core::scene_to_json_text(s), "saved.json", w);
  EXPECT_EQ(again.layer, 25);
  core::model::Config c;
  c.name = "Gemma 3";
  c.n_layers = 18;
  c.n_heads = 4;
  c.n_kv_heads = 1;
  std::string msg = core::check_against_model(again, c);
  EXPECT_NE(msg.find("layer 25"), std::string::npos) << msg;
  EXPECT_NE(msg.find("0..17"), std::string::npos) << msg;
  s.layer = 2;
  msg = core::check_against_model(s, c);
  EXPECT_NE(msg.find("head 8"), std::string::npos) << msg;
  s.head = 0;
  s.variant.kv_heads = 2;
  msg = core::check_against_model(s, c);
  EXPECT_NE(msg.find("kv_heads 2"), std::string::npos) << msg;
  s.variant.kv_heads = 0;
  EXPECT_EQ(core::check_against_model(s, c), "");
}

TEST(Session, ALoadedModelFillsTheFromModelArchitecture) {
  core::model::Config c;
  c.n_layers = 6;
  c.n_heads = 8;
  c.n_kv_heads = 2;
  c.head_dim = 32;
  c.d_model = 256;
  for (int l = 0; l < 6; ++l) {
    core::model::LayerConfig lc;
    lc.window = (l + 1) % 3 == 0 ? 0 : 64;  // two local layers, then a global one
    c.layers.push_back(lc);
  }
  core::Scene s;
  core::architecture_from_model(s, c);
  EXPECT_EQ(s.preset, core::kFromModelPreset);
  EXPECT_EQ(s.n_layers, 6);
  EXPECT_EQ(s.n_kv_heads, 2);
  EXPECT_EQ(s.window, 64);
  EXPECT_EQ(s.global_every, 3);
  EXPECT_EQ(s.mask, attn::MaskKind::SlidingWindow);
  EXPECT_NO_THROW(core::validate_scene(s));
}

}  // namespace
