// State of the live-model panels (part 3): the LiveSession that runs the model on its worker
// thread, the options the Scene does not carry (aggregate, difference, play), the GGUF file
// browser and one cached Figure per live view. Panels poll session.result() each frame and
// never wait on the worker.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/figure_draw.h"
#include "core/figure/live_views.h"
#include "core/session/live_session.h"

namespace app {

struct AppState;

struct LiveFigureCache {
  uint64_t result_rev = 0, scene_version = 0, options = 0;
  std::string theme;
  fig::Figure figure;
  uint64_t version = 0;
  std::optional<core::LiveAttention> attention;  // attention view: hover + highlight data
  FigureCanvas canvas;                           // where it was drawn last frame
};

struct LiveUi {
  core::LiveSession session;
  fig::LiveViewOptions options;
  int hover_token = -1;
  bool playing = false;
  double next_play_s = 0;
  // The GGUF path field and its browser popup.
  std::array<char, 1024> path_buf{};
  std::vector<char> prompt_buf = std::vector<char>(16384, '\0');
  int tick_frame = -1;  // frame live_tick last ran (several live panels draw per frame)
  std::string browser_dir;
  std::vector<std::string> browser_dirs, browser_files;
  std::string browser_listed;  // directory the lists belong to
  // Names from the model catalog (assets/models.json), read once when the live views start.
  std::vector<std::string> model_names;
  std::string catalog_error;  // why the catalog could not be read (shown under the model combo)
  // Prompts from assets/prompts/*.txt: (name, text).
  std::vector<std::pair<std::string, std::string>> prompts;
  std::map<std::string, LiveFigureCache> figures;  // by view name
  // Scripted actions for tests (--live-steps, --live-then-model).
  int script_steps = 0;
  std::string script_model;
  bool script_started = false;
};

// The app's LiveUi, created (and the worker started) on first use.
LiveUi& live_ui(AppState& s);
bool live_started(const AppState& s);

// Pushes the scene to the session (cheap when nothing changed) and runs scripted actions.
void live_tick(AppState& s);

// True when no live work is queued or running (or the session was never started).
bool live_idle(const AppState& s);

// Model, backend, tokens, last pass time and the last error, for the status bar.
std::string live_status_line(const AppState& s);

// JSON for --print-status: status, idle, error, and the large attention heatmap's screen rect.
std::string live_status_json(const AppState& s);

// The shared header of every live panel: model combo, GGUF path + browser, prompt box,
// live window / KV-head settings, progress bar and the last error.
void draw_live_header(AppState& s);

// The cached figure of a live view for the current result, scene, options and theme.
LiveFigureCache& live_figure(AppState& s, fig::LiveViewId id);

// Draws the figure into the rest of the window; returns the canvas.
FigureCanvas draw_live_figure(AppState& s, fig::LiveViewId id, LiveFigureCache& c);

}  // namespace app
