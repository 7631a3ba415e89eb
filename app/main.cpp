#include <cstdio>

#include "core/cli/cli.h"

int main(int argc, char** argv) {
  if (core::cli::is_subcommand(argc, argv)) return core::cli::run(argc, argv);
  std::fprintf(stderr, "attnlab: the app is not built yet\n");
  return 1;
}
