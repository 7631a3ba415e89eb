// Command-line flags of the app (the CLI subcommands are parsed by core::cli).
#pragma once

#include <optional>
#include <string>

namespace app {

struct AppArgs {
  std::string scene;           // --scene FILE
  std::string screenshot;      // --screenshot OUT.png (after the last frame)
  int frames = 0;              // --frames N: render N frames then exit; 0 = run until closed
  bool frame_stats = false;    // --frame-stats: print ui build / render medians at exit
  std::string view;            // --view V: focus this panel
  std::string theme;           // --theme dark|light (overrides the scene's)
  std::string lecture;         // --lecture FILE
  bool present = false;        // --present: start in presentation mode
  int slide = 0;               // --slide K (1-based on the command line)
  bool grid = false;           // --layout grid: tile every view
  std::string export_focused;  // --export-focused OUT: what Ctrl+E does, after the frames
  bool export_dialog = false;  // --export-dialog: open the focused panel's Export popup
  bool animate = false;        // --animate: grow the window by one every frame (a dragged slider)
  int width = 1600, height = 900;
  // Live model (part 3).
  bool wait_idle = false;          // --wait-idle: after --frames, keep rendering until the live
                                   // session is idle (at most 600 s)
  bool print_status = false;       // --print-status: live status JSON on stdout at exit
  int live_steps = 0;              // --live-steps N: generate N tokens once the first pass is in
  std::string live_then_model;     // --live-then-model PATH: then switch the scene's model to PATH
  int live_then_window = 0;        // --live-then-window W: then move the window slider to W
  int mouse_x = -1, mouse_y = -1;  // --mouse X,Y: the pointer rests there every frame (hover)
  bool trace_model = false;  // --trace-model: the flash view traces the live model (its button)
};

// Parses argv. On a bad flag returns nullopt with `error` set (main prints it, exit 2).
std::optional<AppArgs> parse_app_args(int argc, char** argv, std::string& error);

const char* app_usage();

}  // namespace app
