#include "app/app_window.h"

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "app/app_frame.h"
#include "app/app_state.h"

namespace app {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// CPU time of the whole process (llvmpipe renders on its own threads).
double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

void on_glfw_error(int code, const char* text) {
  std::fprintf(stderr, "attnlab: GLFW error %d: %s\n", code, text);
}

void sync_window_mode(GLFWwindow* win, WindowMode& m, bool want_fullscreen) {
  if (m.fullscreen == want_fullscreen) return;
  if (want_fullscreen) {
    glfwGetWindowPos(win, &m.x, &m.y);
    glfwGetWindowSize(win, &m.w, &m.h);
    const GLFWvidmode* mode = glfwGetVideoMode(glfwGetPrimaryMonitor());
    glfwSetWindowAttrib(win, GLFW_DECORATED, GLFW_FALSE);
    glfwSetInputMode(win, GLFW_CURSOR, GLFW_CURSOR_HIDDEN);  // no pointer on the projector
    if (mode) {
      glfwSetWindowPos(win, 0, 0);
      glfwSetWindowSize(win, mode->width, mode->height);
    }
  } else {
    glfwSetWindowAttrib(win, GLFW_DECORATED, GLFW_TRUE);
    glfwSetInputMode(win, GLFW_CURSOR, GLFW_CURSOR_NORMAL);
    glfwSetWindowPos(win, m.x, m.y);
    glfwSetWindowSize(win, m.w, m.h);
  }
  m.fullscreen = want_fullscreen;
}

}  // namespace

bool open_window(AppWindow& w, const AppArgs& args, AppState& s) {
  glfwSetErrorCallback(on_glfw_error);
  if (!glfwInit()) {
    std::fprintf(
        stderr,
        "attnlab: cannot open a window (no display: is DISPLAY set?). The app needs a display;\n"
        "run it under a desktop session or `xvfb-run -a attnlab ...`. Headless commands such as\n"
        "`attnlab stats` and `attnlab export` work without one.\n");
    return false;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  w.win = glfwCreateWindow(args.width, args.height, "attnlab", nullptr, nullptr);
  if (!w.win) {
    std::fprintf(stderr, "attnlab: cannot create an OpenGL 3.3 window on this display\n");
    glfwTerminate();
    return false;
  }
  glfwMakeContextCurrent(w.win);
  glfwSwapInterval(args.frames > 0 ? 0 : 1);
  // Scripted runs (tests, screenshots) park the pointer in the corner, so hover outlines and
  // tooltips never cover what the screenshot checks.
  if (args.frames > 0) glfwSetCursorPos(w.win, 0, 0);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // layout is computed each frame; nothing to remember
  ImGui_ImplGlfw_InitForOpenGL(w.win, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");
  const GLFWvidmode* mode = glfwGetVideoMode(glfwGetPrimaryMonitor());
  load_fonts(s.gl.fonts, 17.0f, mode ? static_cast<float>(mode->height) : 1080.0f);
  if (!gl_heatmaps_init(s.gl.heatmaps)) {
    std::fprintf(stderr, "attnlab: heatmap shader failed: %s\n", s.gl.heatmaps.error.c_str());
    return false;
  }
  return true;
}

bool window_open(const AppWindow& w) {
  return !glfwWindowShouldClose(w.win);
}

void begin_frame(AppWindow& w, const AppArgs& args, const AppState& s) {
  // Interactive runs sleep until input or 50 ms pass: an idle app leaves the CPU to the
  // model (software GL would otherwise redraw 60 times a second). Scripted runs never wait.
  if (args.frames > 0) {
    glfwPollEvents();
  } else {
    glfwWaitEventsTimeout(0.05);
  }
  sync_window_mode(w.win, w.mode, s.present.active);
}

void draw_frame(AppWindow& w, AppState& s, bool finish_gl, FrameStats& stats, float mouse_x,
                float mouse_y) {
  const auto t0 = Clock::now();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  if (mouse_x >= 0) ImGui::GetIO().MousePos = ImVec2(mouse_x, mouse_y);
  ImGui::NewFrame();
  draw_app_frame(s);
  ImGui::Render();
  const double ui_ms = ms_since(t0);

  const auto t1 = Clock::now();
  const double cpu1 = process_cpu_ms();
  glfwGetFramebufferSize(w.win, &w.fb_w, &w.fb_h);
  glViewport(0, 0, w.fb_w, w.fb_h);
  const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
  glClearColor(bg.x, bg.y, bg.z, 1);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  if (finish_gl) glFinish();
  const double render_ms = ms_since(t1);
  if (finish_gl) stats.render_cpu_ms.push_back(process_cpu_ms() - cpu1);
  gl_heatmaps_end_frame(s.gl.heatmaps);
  stats.ui_ms.push_back(ui_ms);
  stats.render_ms.push_back(render_ms);
  s.frame.ui_ms = static_cast<float>(ui_ms);
  s.frame.render_ms = static_cast<float>(render_ms);
}

void swap(AppWindow& w) {
  glfwSwapBuffers(w.win);
}

void close_window(AppWindow& w, AppState& s) {
  gl_heatmaps_shutdown(s.gl.heatmaps);
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(w.win);
  glfwTerminate();
}

}  // namespace app
