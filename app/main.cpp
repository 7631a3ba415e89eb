// attnlab: CLI subcommands first (headless), else the GLFW/ImGui app loop. Setting up the
// state is app_setup.h, the window app_window.h, scripted runs script_run.h.
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "app/app_args.h"
#include "app/app_setup.h"
#include "app/app_state.h"
#include "app/app_window.h"
#include "app/script_run.h"
#include "core/attention/cpu_isa.h"
#include "core/cli/cli.h"
#include "core/model/draft_path.h"
#include "kernels/backend_select.h"

int main(int argc, char** argv) {
  // The kernel-path caps for testing one machine's other paths: a misspelt one is refused.
  for (const std::string& e : {core::isa_env_error(), core::model::draft_env_error()})
    if (!e.empty()) {
      std::fprintf(stderr, "attnlab: %s\n", e.c_str());
      return 2;
    }
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
  if (const int rc = app::setup_state(state, args); rc != 0) return rc;
  app::AppWindow window;
  if (!app::open_window(window, args, state)) return 1;
  app::setup_after_window(state, args, backend_message);

  app::ScriptRun script(args);
  app::script_start(script, state);
  while (app::window_open(window) && !state.quit) {
    app::begin_frame(window, args, state);
    app::script_before_frame(script, state);
    app::draw_frame(window, state, args.frame_stats, script.stats, static_cast<float>(args.mouse_x),
                    static_cast<float>(args.mouse_y));
    const bool last = app::script_after_frame(script, state, window);
    app::swap(window);
    if (last) break;
  }
  const int rc = app::script_finish(script, state);
  app::close_window(window, state);
  return rc;
}
