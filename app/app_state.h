// AppState: everything the app remembers between frames. Panels take an AppState& and draw;
// nothing lives in function statics, so two windows or a test could hold two states.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/gl_heatmap.h"
#include "app/panels/panels.h"
#include "app/ui_fonts.h"
#include "core/export/export.h"
#include "core/figure/figure.h"
#include "core/scene/lecture.h"
#include "core/scene/scene.h"
#include "core/views/mask_grid.h"
#include "core/views/receptive_field.h"
#include "core/views/ring_state.h"

namespace app {

enum class Layout { Single, Grid };  // one view in tabs, or every view tiled

// A view's figure, rebuilt only when the scene or theme changes. `version` is unique per
// build, so heatmap textures re-upload exactly when the values change.
struct ViewCache {
  uint64_t built_for = 0;  // AppState::scene_version (0 = never built)
  std::string theme;
  fig::Figure figure;
  uint64_t version = 0;
  // Hover data, built on first hover for the same scene version.
  uint64_t hover_for = 0;
  std::optional<core::MaskGrid> mask;
  std::optional<core::ReceptiveField> reach;
  std::optional<core::RingState> ring;
};

// Export settings; the last folder/name/format are persisted (app_config.h).
struct ExportSettings {
  std::string folder = ".";
  std::string name;        // file name without extension; "" = the panel id
  std::string last_panel;  // panel the name was chosen for
  core::exp::Format format = core::exp::Format::Png;
  int width = 0;  // figure units; 0 = the figure's own size
  int height = 0;
  float scale = 2;               // PNG pixels per unit
  std::string theme = "screen";  // "screen" (the app's dark/light) or "slides"
};

struct ExportUi {
  std::string popup_panel;  // panel the open popup exports
  bool open_request = false;
  std::string message;  // last result, shown in the status bar
  bool error = false;
};

struct PresentationState {
  bool active = false;
  std::string lecture_path;  // default assets/lectures/attention-efficiency.json
  std::optional<core::Lecture> lecture;
  std::string error;  // why the lecture did not load
  int slide = 0;
  ViewCache cache;  // figure of the current slide
  int cache_slide = -1;
};

struct LiveUi;  // live_ui.h: the live model's session and panel state

struct AppState {
  // The valid scene every view draws, and what the controls are editing. An edit that fails
  // core::validate_scene stays in `edit` with its message; views keep the last valid scene.
  core::Scene scene;
  uint64_t scene_version = 1;
  core::Scene edit;
  std::string edit_error;
  std::string segments_text;  // the segments field as typed ("24, 16, 24")

  std::string scene_path = "scene.json";  // save/load field
  std::string scene_message;
  bool scene_message_error = false;

  Layout layout = Layout::Single;
  std::string focused = "mask";  // panel id Ctrl+E exports and --view selects
  bool focus_request = true;     // select the focused tab on the next frame
  std::string backend = "CPU";   // set by main.cpp at start-up
  float fps = 0;
  float ui_ms = 0, render_ms = 0;  // last frame, for the status bar

  ExportSettings export_settings;
  ExportUi export_ui;
  std::string config_path;  // $XDG_CONFIG_HOME/attnlab/app.json

  PresentationState present;
  std::vector<Panel> panels;
  std::map<std::string, ViewCache> views;  // by panel id
  uint64_t figure_counter = 0;
  std::vector<double> figure_build_ms;  // one entry per view figure build (--frame-stats)

  GlHeatmaps heatmaps;
  UiFonts fonts;
  std::string ui_theme_applied;  // ImGui style currently set (follows scene.theme)
  bool quit = false;
  std::shared_ptr<LiveUi> live;  // created by the first live panel drawn
};

// Replaces the scene (a preset, a loaded file or a validated edit) and invalidates figures.
void set_scene(AppState& s, const core::Scene& scene);

// The panel with this id, or nullptr.
const Panel* find_panel(const AppState& s, const std::string& id);

}  // namespace app
