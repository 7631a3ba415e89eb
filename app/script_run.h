// Scripted runs (tests, screenshots, timings): --frames, --animate, --wait-idle, --screenshot,
// --export-focused, --frame-stats, --print-status and the scripted live actions.
#pragma once

#include <chrono>

#include "app/app_args.h"
#include "app/frame_stats.h"

namespace app {

struct AppState;
struct AppWindow;

struct ScriptRun {
  explicit ScriptRun(const AppArgs& a) : args(a) {}
  const AppArgs& args;
  FrameStats stats;
  int frame = 0;
  int idle_frames = 0;  // --wait-idle: consecutive frames that saw the live session idle
  int exit_code = 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point fps_t0 = start;
  int fps_frames = 0;
};

// Hands the scripted live actions to the state (before the first frame).
void script_start(ScriptRun& r, AppState& s);

// Before a frame: --animate moves the window slider by one.
void script_before_frame(ScriptRun& r, AppState& s);

// After a rendered frame: fps, --wait-idle, --screenshot. True when this was the last frame.
bool script_after_frame(ScriptRun& r, AppState& s, const AppWindow& w);

// After the loop: --export-focused, --frame-stats, --print-status. Returns the exit code.
int script_finish(ScriptRun& r, AppState& s);

}  // namespace app
