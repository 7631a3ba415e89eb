// attnlab: CLI subcommands first (headless), else the GLFW/ImGui app loop.
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>
#include <utility>

#include "app/app_args.h"
#include "app/app_config.h"
#include "app/app_frame.h"
#include "app/app_state.h"
#include "app/export_ui.h"
#include "app/frame_stats.h"
#include "app/live_ui.h"
#include "app/presentation.h"
#include "app/scene_io_ui.h"
#include "app/screenshot.h"
#include "core/cli/cli.h"
#include "core/scene/scene_json.h"
#include "kernels/backend_select.h"

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

// Presentation mode is a borderless window the size of the monitor; leaving restores the
// windowed geometry.
struct WindowMode {
  bool fullscreen = false;
  int x = 0, y = 0, w = 0, h = 0;
};

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

int main(int argc, char** argv) {
  const bool subcommand = core::cli::is_subcommand(argc, argv);
  // One backend choice for the process: every model session, in the GUI or the CLI, uses it.
  std::string backend_message;
  if (!subcommand || core::cli::runs_model(argc, argv)) {
    // Two statements: the message is filled by the choice, so it must be read after it.
    core::BackendFactory factory = kernels::select_backend_factory(&backend_message);
    core::set_default_backend(std::move(factory), backend_message);
  }
  if (subcommand) return core::cli::run(argc, argv);

  std::string err;
  const std::optional<app::AppArgs> parsed = app::parse_app_args(argc, argv, err);
  if (!parsed) {
    if (err.empty()) {
      std::fputs(app::app_usage(), stdout);
      return 0;
    }
    std::fprintf(stderr, "attnlab: %s\n%s", err.c_str(), app::app_usage());
    return 2;
  }
  const app::AppArgs& args = *parsed;

  app::AppState state;
  state.panels = app::make_panels();
  app::set_scene(state, core::Scene{});
  if (!args.scene.empty()) {
    try {
      std::vector<std::string> warnings;
      app::set_scene(state, core::load_scene(args.scene, warnings));
      for (const std::string& w : warnings)
        std::fprintf(stderr, "attnlab: %s: warning: %s\n", args.scene.c_str(), w.c_str());
      state.scene_path = args.scene;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "attnlab: %s\n", e.what());
      return 2;
    }
  }
  if (!args.theme.empty()) {
    core::Scene themed = state.scene;
    themed.theme = args.theme;
    app::set_scene(state, themed);
  }
  state.focused = state.scene.view;
  if (!args.view.empty()) {
    if (!app::find_panel(state, args.view)) {
      std::fprintf(stderr, "attnlab: --view: unknown panel '%s'\n", args.view.c_str());
      return 2;
    }
    state.focused = args.view;
  }
  if (args.grid) state.layout = app::Layout::Grid;
  state.present.lecture_path = args.lecture.empty() ? app::default_lecture_path() : args.lecture;
  state.present.slide = args.slide;
  state.config_path = app::default_config_path();
  if (!app::load_config(state.config_path, state.export_settings, err))
    state.export_ui.message = "settings ignored: " + err, state.export_ui.error = true;

  glfwSetErrorCallback(on_glfw_error);
  if (!glfwInit()) {
    std::fprintf(
        stderr,
        "attnlab: cannot open a window (no display: is DISPLAY set?). The app needs a display;\n"
        "run it under a desktop session or `xvfb-run -a attnlab ...`. Headless commands such as\n"
        "`attnlab stats` and `attnlab export` work without one.\n");
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  GLFWwindow* win = glfwCreateWindow(args.width, args.height, "attnlab", nullptr, nullptr);
  if (!win) {
    std::fprintf(stderr, "attnlab: cannot create an OpenGL 3.3 window on this display\n");
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(win);
  glfwSwapInterval(args.frames > 0 ? 0 : 1);
  // Scripted runs (tests, screenshots) park the pointer in the corner, so hover outlines and
  // tooltips never cover what the screenshot checks.
  if (args.frames > 0) glfwSetCursorPos(win, 0, 0);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // layout is computed each frame; nothing to remember
  ImGui_ImplGlfw_InitForOpenGL(win, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");
  const GLFWvidmode* mode = glfwGetVideoMode(glfwGetPrimaryMonitor());
  app::load_fonts(state.fonts, 17.0f, mode ? static_cast<float>(mode->height) : 1080.0f);
  if (!app::gl_heatmaps_init(state.heatmaps)) {
    std::fprintf(stderr, "attnlab: heatmap shader failed: %s\n", state.heatmaps.error.c_str());
    return 1;
  }
  // The status bar prints "backend: ...", and the message already starts with it.
  state.backend =
      backend_message.rfind("backend: ", 0) == 0 ? backend_message.substr(9) : backend_message;
  std::fprintf(stderr, "attnlab: %s\n", backend_message.c_str());
  if (args.present) app::enter_presentation(state);
  if (args.export_dialog) {
    state.export_ui.popup_panel = state.focused;
    state.export_ui.open_request = true;
  }

  if (args.live_steps > 0 || !args.live_then_model.empty()) {
    app::LiveUi& live = app::live_ui(state);
    live.script_steps = args.live_steps;
    live.script_model = args.live_then_model;
  }
  const auto start = Clock::now();
  int idle_frames = 0;  // --wait-idle: consecutive frames that saw the live session idle

  WindowMode wmode;
  app::FrameStats stats;
  int frame = 0, exit_code = 0;
  auto fps_t0 = Clock::now();
  int fps_frames = 0;
  while (!glfwWindowShouldClose(win) && !state.quit) {
    // Interactive runs sleep until input or 50 ms pass: an idle app leaves the CPU to the
    // model (software GL would otherwise redraw 60 times a second). Scripted runs never wait.
    if (args.frames > 0) {
      glfwPollEvents();
    } else {
      glfwWaitEventsTimeout(0.05);
    }
    sync_window_mode(win, wmode, state.present.active);
    if (args.animate && frame > 0) {
      // Stands in for dragging the window slider: every frame is a new, valid scene.
      core::Scene next = state.scene;
      next.window = next.window % std::max(next.seq_len, 2) + 1;
      app::set_scene(state, next);
    }
    const auto t0 = Clock::now();
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    app::draw_app_frame(state);
    ImGui::Render();
    const double ui_ms = ms_since(t0);

    const auto t1 = Clock::now();
    const double cpu1 = process_cpu_ms();
    int fb_w = 0, fb_h = 0;
    glfwGetFramebufferSize(win, &fb_w, &fb_h);
    glViewport(0, 0, fb_w, fb_h);
    const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
    glClearColor(bg.x, bg.y, bg.z, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    if (args.frame_stats) glFinish();
    const double render_ms = ms_since(t1);
    if (args.frame_stats) stats.render_cpu_ms.push_back(process_cpu_ms() - cpu1);
    app::gl_heatmaps_end_frame(state.heatmaps);
    stats.ui_ms.push_back(ui_ms);
    stats.render_ms.push_back(render_ms);
    state.ui_ms = static_cast<float>(ui_ms);
    state.render_ms = static_cast<float>(render_ms);
    ++frame;
    ++fps_frames;
    const double since = ms_since(fps_t0);
    if (since > 500 && fps_frames >= 10) {  // fewer frames than that is noise
      state.fps = static_cast<float>(fps_frames * 1000.0 / since);
      fps_frames = 0;
      fps_t0 = Clock::now();
    }
    bool last = args.frames > 0 && frame >= args.frames;
    if (args.wait_idle) {
      idle_frames = app::live_idle(state) ? idle_frames + 1 : 0;
      // Two idle frames: the second one has drawn the final result.
      if (last && idle_frames < 2 && ms_since(start) < 600000) last = false;
      if (!last)
        std::this_thread::sleep_for(std::chrono::milliseconds(12));  // leave the CPU to the worker
    }
    if (last && !args.screenshot.empty()) {
      if (!app::write_screenshot(args.screenshot, fb_w, fb_h, err)) {
        std::fprintf(stderr, "attnlab: screenshot: %s\n", err.c_str());
        exit_code = 1;
      }
    }
    glfwSwapBuffers(win);
    if (last) break;
  }
  if (!args.export_focused.empty()) {
    const app::Panel* p = app::find_panel(state, state.focused);
    if (!p || !app::export_panel_to(state, *p, args.export_focused)) {
      std::fprintf(stderr, "attnlab: %s\n", state.export_ui.message.c_str());
      exit_code = 2;
    } else {
      std::printf("%s\n", state.export_ui.message.c_str());
    }
  }
  stats.figure_build_ms = state.figure_build_ms;
  if (args.frame_stats) std::fputs(app::frame_stats_report(stats).c_str(), stdout);
  if (args.print_status) std::printf("%s\n", app::live_status_json(state).c_str());

  app::gl_heatmaps_shutdown(state.heatmaps);
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(win);
  glfwTerminate();
  return exit_code;
}
