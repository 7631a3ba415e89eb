#include "app/script_run.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>

#include "app/app_state.h"
#include "app/app_window.h"
#include "app/export_ui.h"
#include "app/live_ui.h"
#include "app/screenshot.h"

namespace app {
namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

void script_start(ScriptRun& r, AppState& s) {
  s.live.script_steps = r.args.live_steps;
  s.live.script_model = r.args.live_then_model;
  s.live.script_window = r.args.live_then_window;
  s.live.flash_trace = r.args.trace_model;
}

void script_before_frame(ScriptRun& r, AppState& s) {
  if (!r.args.animate || r.frame == 0) return;
  // Stands in for dragging the window slider: every frame is a new, valid scene.
  core::Scene next = s.editor.scene;
  next.window = next.window % std::max(next.seq_len, 2) + 1;
  set_scene(s, next);
}

bool script_after_frame(ScriptRun& r, AppState& s, const AppWindow& w) {
  ++r.frame;
  ++r.fps_frames;
  const double since = ms_since(r.fps_t0);
  if (since > 500 && r.fps_frames >= 10) {  // fewer frames than that is noise
    s.frame.fps = static_cast<float>(r.fps_frames * 1000.0 / since);
    r.fps_frames = 0;
    r.fps_t0 = std::chrono::steady_clock::now();
  }
  const AppArgs& a = r.args;
  bool last = a.frames > 0 && r.frame >= a.frames;
  if (a.wait_idle) {
    r.idle_frames = live_idle(s) ? r.idle_frames + 1 : 0;
    // Two idle frames: the second one has drawn the final result.
    if (last && r.idle_frames < 2 && ms_since(r.start) < 600000) last = false;
    if (!last)
      std::this_thread::sleep_for(std::chrono::milliseconds(12));  // leave the CPU to the worker
  }
  if (last && !a.screenshot.empty()) {
    std::string err;
    if (!write_screenshot(a.screenshot, w.fb_w, w.fb_h, err)) {
      std::fprintf(stderr, "attnlab: screenshot: %s\n", err.c_str());
      r.exit_code = 1;
    }
  }
  return last;
}

int script_finish(ScriptRun& r, AppState& s) {
  const AppArgs& a = r.args;
  if (!a.export_focused.empty()) {
    const Panel* p = find_panel(s, s.focused);
    if (!p || !export_panel_to(s, *p, a.export_focused)) {
      std::fprintf(stderr, "attnlab: %s\n", s.exports.message.c_str());
      r.exit_code = 2;
    } else {
      std::printf("%s\n", s.exports.message.c_str());
    }
  }
  r.stats.figure_build_ms = s.caches.figure_build_ms;
  if (a.frame_stats) std::fputs(frame_stats_report(r.stats).c_str(), stdout);
  if (a.print_status) std::printf("%s\n", live_status_json(s).c_str());
  return r.exit_code;
}

}  // namespace app
