// Entry points of the subcommands, one per core/cli/cmd_<name>.cpp. argv[0] is the name.
#pragma once

namespace core::cli {}  // namespace core::cli
