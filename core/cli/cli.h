// Headless subcommands of the attnlab binary (`attnlab <command> ...`).
#pragma once

namespace core::cli {

// True when argv[1] names a subcommand; the app then never touches GLFW.
bool is_subcommand(int argc, char** argv);

// True when the subcommand runs a model, so the program should pick its attention backend
// (a GPU probe) before running it; `stats` and `export` never need one.
bool runs_model(int argc, char** argv);

// Runs the subcommand. Exit codes: 0 ok, 1 runtime failure, 2 bad input (file, JSON, range).
int run(int argc, char** argv);

}  // namespace core::cli
