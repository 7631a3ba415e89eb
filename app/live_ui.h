// The live model's app-side state (part 3): the options the Scene does not carry (aggregate,
// difference, ring step, play), the GGUF path field and file browser, the prompt examples and
// the scripted actions of tests. The worker itself is the Session's (AppState::session);
// panels poll its result and never wait on it. The run controls (model, prompt, K/V heads)
// are drawn once, in the controls column.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/figure/live_views.h"
#include "core/model/catalog.h"

namespace app {

struct AppState;

struct LiveUi {
  fig::LiveViewOptions options;
  uint64_t options_key = 0;  // options as last handed to the session (a change touches kLook)
  int hover_token = -1;
  bool flash_trace = false;  // the flash view's trace runs on the live model
  bool playing = false;
  double next_play_s = 0;
  // The GGUF path field and its browser popup.
  std::array<char, 1024> path_buf{};
  std::vector<char> prompt_buf = std::vector<char>(16384, '\0');
  std::string browser_dir;
  std::vector<std::string> browser_dirs, browser_files;
  std::string browser_listed;  // directory the lists belong to
  // The model catalog (assets/models.json), read once at start-up.
  std::vector<core::model::CatalogModel> catalog;
  std::string catalog_error;  // why the catalog could not be read (shown under the model combo)
  // Prompts from assets/prompts/*.txt: (name, text).
  std::vector<std::pair<std::string, std::string>> prompts;
  std::string arch_from;  // GGUF path whose metadata last filled the "from model" architecture
  // Scripted actions for tests (--live-steps, --live-then-model, --live-then-window).
  int script_steps = 0;
  std::string script_model;
  int script_window = 0;  // --live-then-window: move the window slider once the pass is in
  bool script_started = false;
};

// Reads the catalog and lists the prompt examples and the browser's start folder.
void live_ui_init(LiveUi& u);

// The catalog model whose preset is `preset` ("" = none): what the live views run for it.
std::string catalog_model_for(const LiveUi& u, const std::string& preset);

// Once per frame after Session::update: play, scripted actions, the "from model"
// architecture of a loaded GGUF, and the live options' revision.
void live_tick(AppState& s);

// True when no live work is queued or running (or the worker was never started).
bool live_idle(const AppState& s);

// Model, backend, tokens, last pass time and the last error, for the status bar.
std::string live_status_line(const AppState& s);

// JSON for --print-status: status, idle, error, builds, hover text, and where the live
// attention heatmap and every view's canvas landed on screen.
std::string live_status_json(const AppState& s);

// One line above each live view: the progress bar of the work in flight (else the status
// line) and the last error in red. Starts the worker.
void draw_live_progress(AppState& s);

// The run controls of the controls column: model (a preset's model or a GGUF), prompt,
// "model's own windows", K/V heads, progress and the last error.
void draw_run_controls(AppState& s);

}  // namespace app
