// LiveSession: runs the real model for the app on one worker thread.
//
//   core::LiveSession live;
//   live.update(run);                         // every frame; cheap when nothing changed
//   auto r = live.result();                   // immutable snapshot, never null
//   core::LiveProgress p = live.progress();   // progress bar + stage text
//
// The run comes from the scene through core::live_run (session.h).
// update() decides what a change invalidates: the model path → load (then a pass);
// the prompt or the live setting (ModelVariant) → a forward pass (resuming the last one where
// it can, live_reuse.h); the layer → a pass only when the shown pass is a long prompt's
// focused capture (live_capture.h); anything else (head, zoom, view) → nothing. A pass runs as
// a draft first (int8 or bf16), then exact, when the draft pays on this machine (draft_first,
// live_draft.h: measured per model), else exact only; draft and exact passes each resume their
// own kind. A pass publishes the layers done so far after every layer (LiveResult::partial).
// Queuing new invalidating work raises the cancel flag, so an exact pass that a newer slider
// position made stale stops between layers; a draft runs to its end. A GGUF that fails to load
// leaves the previous model and its results in place and reports the error in result()->error.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/model/forward.h"
#include "core/model/tokenizer.h"
#include "core/session/live_draft.h"
#include "core/session/live_result.h"
#include "core/session/live_runs.h"

namespace core {

// What the live model runs: model name or GGUF path, a non-empty prompt, the variant (window
// override, pooling, cache, chunk) and the ring generation's window.
struct LiveRun {
  std::string model = "smollm2";
  std::string prompt;
  ModelVariant variant;
  int ring_window = 16;
  // The scene's layer: a long prompt captures this layer's heads only (live_capture.h), so a
  // new focus reruns a long pass; a short one holds every layer and ignores it.
  int focus_layer = 0;
  bool operator==(const LiveRun&) const = default;
};

class PartialPassBuilder;  // live_progress.h

struct LiveSessionOptions {
  int n_threads = 0;          // 0 = hardware concurrency
  int max_tokens = 4096;      // prompts are cut to this many tokens
  int speed_steps = 16;       // decode steps per tokens/s measurement
  std::string ppl_text_path;  // empty = default_ppl_text_path()
  int ppl_max_tokens = 160;   // the perplexity text is cut to this many tokens
  // Whether a changed prompt or setting first runs a draft pass (not cancelled by newer
  // changes, so a moving slider keeps getting drafts); the exact pass follows when no newer
  // change is queued by the time the draft is done, and replaces it. Measured: only while the
  // model's last timed draft/exact pair says the draft is clearly faster (live_draft.h); the
  // first pass after a load times one. Always / Never force it (tests, live-bench, export).
  // int8 (qgemm_int8.h) is the faster draft on CPUs with AVX-512 VNNI; bf16 the more accurate.
  DraftFirst draft_first = DraftFirst::Measured;
  model::Precision draft = model::Precision::DraftInt8;
};

class LiveSession {
 public:
  explicit LiveSession(LiveSessionOptions opts = {});
  ~LiveSession();  // cancels the work in flight and joins the worker
  LiveSession(const LiveSession&) = delete;
  LiveSession& operator=(const LiveSession&) = delete;

  void update(const LiveRun& run);
  // Ring generation on the current prompt: n more greedy tokens, or start over.
  void step(int n = 1);
  void reset_generation();
  // Decode tokens/s with a cache and without one, on the current prompt.
  void measure_speed();
  // Keeps the q, k, v rows of (layer, head) of every pass from now on (result()->head_vectors,
  // the flash view's trace); a change of target runs one more prefill. -1 = none.
  void trace_head(int layer, int head);

  std::shared_ptr<const LiveResult> result() const;
  LiveProgress progress() const;
  bool idle() const;
  // Blocks until the worker has nothing left to do (tests, CLI). False on timeout.
  bool wait_idle(double timeout_s) const;

 private:
  struct Request;
  struct Worker;
  void worker_loop();
  void process(Request& r);
  // The stages process() runs in order (worker thread).
  LiveControl control(const std::string& stage);
  bool load_stage(const std::string& path);  // false: kept the previous model
  void prompt_stage();
  void pass_stage(model::Precision precision, DraftChoice choice);
  LiveControl pass_control(const std::string& stage, model::Precision precision,
                           const DraftChoice& choice, std::shared_ptr<PartialPassBuilder>& builder);
  bool superseded() const;  // a newer change to the prompt, setting or model is queued
  void native_stage();
  void packed_stage();  // packed prompts against separate passes (live_packed.h)
  void perplexity_stage();
  void generation_stage(Request& r);
  void speed_stage();
  void head_stage();
  void set_progress(bool busy, float fraction, const std::string& stage);
  bool focused_pass_shown() const;  // the published pass is a long prompt's focused capture
  void publish(const std::function<void(LiveResult&)>& edit);

  LiveSessionOptions opts_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::unique_ptr<Request> pending_;  // guarded by mu_
  bool working_ = false;              // guarded by mu_
  bool stop_ = false;                 // guarded by mu_
  std::atomic<bool> cancel_{false};
  std::atomic<bool> hard_cancel_{false};      // stops a draft too: a new model, shutting down
  std::shared_ptr<const LiveResult> result_;  // guarded by mu_
  int trace_layer_ = -1, trace_head_ = -1;    // guarded by mu_
  LiveProgress progress_;                     // guarded by mu_
  // What update() last saw, to detect changes (UI thread only).
  std::string seen_model_, seen_prompt_;
  ModelVariant seen_variant_;
  int seen_ring_window_ = -1;
  int seen_focus_ = 0;
  bool seen_any_ = false;
  std::unique_ptr<Worker> w_;  // worker-thread state (model, tokenizer, generator)
  std::thread thread_;
};

}  // namespace core
