// Session: the one object between the Scene and the views. Each frame it takes the whole
// Scene and splits it into three parts:
//   architecture  preset, dimensions, mask, window, convention, cursors -> the analytic views
//   run           model, prompt, K/V pooling, cache, chunk (+ the window or the sparse
//                 pattern) -> the live model
//   look          view, layer, head, theme, colormap, log scale, title, caption
// and keeps a revision counter per part. A view's revision is the sum of the counters of the
// parts it reads, so a change rebuilds only the views it touches. It owns the live worker
// (LiveSession), started on first use, and counts its published results (kLiveResult).
//
//   core::Session session;
//   session.update(scene);                          // every frame; cheap when nothing changed
//   uint64_t rev = session.revision(kArchitecture);  // changes iff that part changed
//   session.live();                                 // starts the model worker
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/model/config.h"
#include "core/scene/scene.h"
#include "core/session/live_result.h"
#include "core/session/live_session.h"

namespace core {

// The parts a view can read. kLiveResult is not a part of the scene: it counts the live
// worker's published results, which is what the live views draw (a run change reaches them
// when the new pass is published, not before).
enum ScenePart : unsigned { kArchitecture = 1u, kRun = 2u, kLook = 4u, kLiveResult = 8u };

// The part's fields compare equal (every field not named run or look is architecture, so a
// new scene key is architecture until it is listed elsewhere).
bool same_architecture(const Scene& a, const Scene& b);
bool same_run(const Scene& a, const Scene& b);
bool same_look(const Scene& a, const Scene& b);

// The default prompt of the live views: assets/prompts/recall.txt (ATTNLAB_ASSETS overrides
// the folder); a short built-in sentence when the file is missing.
std::string default_prompt();

// What the live model runs for a scene: the scene's window (on the layers the scene's
// global_every leaves local) or its sparse pattern unless model_windows is set, and a
// non-empty prompt.
LiveRun live_run(const Scene& s, const std::string& fallback_prompt);

// The scene's sparse pattern on the live model: with mask "sparse" (and model_windows off)
// every layer runs under spec.h's Sparse rule with the scene's sparse.global / local / random
// / seed; otherwise the variant's sparse fields are cleared. sparse.local 0 (no band, so a
// row may hold no key) runs the model's own masks.
void apply_scene_sparse(const Scene& s, ModelVariant& v);

// Empty when layer, head and K/V heads fit the loaded model; else a message that names the
// key, the value and the model's range.
std::string check_against_model(const Scene& s, const model::Config& c);

// Fills the architecture keys from a loaded model's metadata (preset "from model").
void architecture_from_model(Scene& s, const model::Config& c);

class Session {
 public:
  explicit Session(LiveSessionOptions opts = {});

  // Takes the scene of this frame: bumps the counters of the parts that changed and, when
  // the live worker runs, hands it the run.
  void update(const Scene& scene);
  const Scene& scene() const { return scene_; }

  uint64_t part_revision(ScenePart p) const;
  uint64_t revision(unsigned parts) const;  // sum over the parts' counters
  // Something outside the scene that a part's views read changed (live view options).
  void touch(ScenePart p);

  // The live worker, started (with the current run) on first use.
  LiveSession& live();
  bool live_started() const { return live_ != nullptr; }
  // The worker's result as of the last update() (what kLiveResult counts); an empty
  // result when it never started. Never null.
  std::shared_ptr<const LiveResult> live_result() const;
  const LiveRun& run() const { return run_; }
  // No live work queued or running, and its last result taken by update() (true when the
  // worker never started).
  bool live_idle() const;
  // Headless runs (export, tests): waits until the worker is idle, then takes its result.
  // False on timeout.
  bool wait_live(double timeout_s);

 private:
  LiveSessionOptions opts_;
  std::string default_prompt_;
  Scene scene_;
  bool seen_ = false;
  LiveRun run_;
  uint64_t arch_rev_ = 1, run_rev_ = 1, look_rev_ = 1, result_rev_ = 1;
  std::shared_ptr<const LiveResult> result_;  // snapshot counted by result_rev_
  std::unique_ptr<LiveSession> live_;
  void poll_live();
  uint64_t& counter(ScenePart p);
};

}  // namespace core
