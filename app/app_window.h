// The GLFW window and the ImGui context around it: open (GL 3.3 core, fonts, heatmap shader),
// one frame (UI build then render, timed), presentation's full-screen mode, and close.
#pragma once

#include <string>

#include "app/app_args.h"
#include "app/frame_stats.h"

struct GLFWwindow;

namespace app {

struct AppState;

// Presentation mode is a borderless window the size of the monitor; leaving restores the
// windowed geometry.
struct WindowMode {
  bool fullscreen = false;
  int x = 0, y = 0, w = 0, h = 0;
};

struct AppWindow {
  GLFWwindow* win = nullptr;
  WindowMode mode;
  int fb_w = 0, fb_h = 0;  // framebuffer of the last frame
};

// Opens the window and ImGui; prints why and returns false when it cannot (exit 1).
bool open_window(AppWindow& w, const AppArgs& args, AppState& s);

bool window_open(const AppWindow& w);

// Waits for input (interactive) or polls (scripted), follows presentation mode and, with
// --mouse, rests the pointer there.
void begin_frame(AppWindow& w, const AppArgs& args, const AppState& s);

// Builds the UI and renders it, appending the timings to `stats`; mouse_x >= 0 rests the
// pointer at (mouse_x, mouse_y) (--mouse).
void draw_frame(AppWindow& w, AppState& s, bool finish_gl, FrameStats& stats, float mouse_x,
                float mouse_y);

void swap(AppWindow& w);
void close_window(AppWindow& w, AppState& s);  // at exit

}  // namespace app
