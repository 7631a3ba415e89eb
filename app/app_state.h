// AppState: everything the app remembers between frames, in parts with one job each: scene
// editing, the session (scene parts, revisions, live worker), the live panels' own options,
// export, presentation, the view cache and the GL resources. Panels take an AppState& and
// draw; nothing lives in function statics, so two windows or a test could hold two states.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/gl_heatmap.h"
#include "app/live_ui.h"
#include "app/panels/panels.h"
#include "app/ui_fonts.h"
#include "app/view_cache.h"
#include "core/export/export.h"
#include "core/scene/lecture.h"
#include "core/scene/scene.h"
#include "core/session/session.h"

namespace app {

enum class Layout { Single, Grid };  // one view in tabs, or every view tiled

// Scene editing: the valid scene every view draws, and what the controls are editing. An
// edit that fails core::validate_scene stays in `edit` with its message; views keep the last
// valid scene.
struct SceneEditor {
  core::Scene scene;
  core::Scene edit;
  std::string edit_error;
  std::string segments_text;        // the segments field as typed ("24, 16, 24")
  std::string path = "scene.json";  // save/load field
  std::string message;
  bool message_error = false;
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

struct ExportState {
  ExportSettings settings;
  std::string popup_panel;  // panel the open popup exports
  bool open_request = false;
  std::string message;  // last result, shown in the status bar
  bool error = false;
  std::string config_path;  // $XDG_CONFIG_HOME/attnlab/app.json
};

struct PresentationState {
  bool active = false;
  std::string lecture_path;  // default assets/lectures/attention-efficiency.json
  std::optional<core::Lecture> lecture;
  std::string error;  // why the lecture did not load
  int slide = 0;
  ViewCache cache;  // figure of the current slide
  int cache_slide = -1;
  uint64_t cache_rev = 0;
};

// GL-side resources and the ImGui style they match.
struct GlResources {
  GlHeatmaps heatmaps;
  UiFonts fonts;
  std::string ui_theme_applied;  // ImGui style currently set (follows scene.theme)
};

// Frame timing and the hover text of the last frame, for the status bar and --print-status.
struct FrameInfo {
  float fps = 0;
  float ui_ms = 0, render_ms = 0;  // last frame
  std::string hover_text;          // tooltip shown this frame ("" = none)
};

struct AppState {
  SceneEditor editor;
  core::Session session;  // takes editor.scene every frame
  LiveUi live;
  ExportState exports;
  PresentationState present;
  ViewCaches caches;
  GlResources gl;
  FrameInfo frame;

  std::vector<Panel> panels;
  Layout layout = Layout::Single;
  std::string focused = "mask";  // panel id Ctrl+E exports and --view selects
  bool focus_request = true;     // select the focused tab on the next frame
  std::string backend = "CPU";   // set by main.cpp at start-up
  bool quit = false;
};

// Replaces the scene (a preset, a loaded file or a validated edit).
void set_scene(AppState& s, const core::Scene& scene);

// The panel with this id, or nullptr.
const Panel* find_panel(const AppState& s, const std::string& id);

}  // namespace app
