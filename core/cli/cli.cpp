#include "core/cli/cli.h"

#include <cstdio>
#include <cstring>

#include "core/cli/commands.h"

namespace core::cli {
namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*fn)(int argc, char** argv);  // argv[0] is the subcommand name
  bool runs_model = false;           // needs the attention backend chosen first
};

// One line per subcommand; each lives in its own core/cli/cmd_<name>.cpp.
constexpr Command kCommands[] = {
    {"help", "list the subcommands", nullptr},
    {"export", "write views or a lecture as PDF, SVG or PNG (--scene FILE | --lecture FILE)",
     cmd_export, true},
    {"stats", "print the numbers behind the views as JSON (--scene FILE)", cmd_stats},
    {"live-bench", "time slider -> live attention view and decode tok/s cache vs none",
     cmd_live_bench, true},
    {"generate", "greedy text from a model, with tok/s and cache bytes", cmd_generate, true},
    {"dump", "token ids, top-10 logits and attention of a prompt as JSON", cmd_dump, true},
    {"ppl", "perplexity of a model on a text file", cmd_ppl, true},
};

int print_help() {
  std::printf(
      "usage: attnlab [app flags]          opens the app (attnlab --help lists the flags)\n"
      "       attnlab <command> [options]  runs headless (attnlab <command> --help)\n"
      "\ncommands:\n");
  for (const Command& c : kCommands) std::printf("  %-10s %s\n", c.name, c.summary);
  return 0;
}

}  // namespace

bool is_subcommand(int argc, char** argv) {
  if (argc < 2) return false;
  for (const Command& c : kCommands)
    if (std::strcmp(argv[1], c.name) == 0) return true;
  return false;
}

bool runs_model(int argc, char** argv) {
  if (argc < 2) return false;
  for (const Command& c : kCommands)
    if (std::strcmp(argv[1], c.name) == 0) return c.runs_model;
  return false;
}

int run(int argc, char** argv) {
  for (const Command& c : kCommands)
    if (std::strcmp(argv[1], c.name) == 0) return c.fn ? c.fn(argc - 1, argv + 1) : print_help();
  std::fprintf(stderr, "attnlab: unknown command '%s'\n", argv[1]);
  return 2;
}

}  // namespace core::cli
