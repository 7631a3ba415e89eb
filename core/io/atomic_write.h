// Atomic file writes: the bytes go to a temporary file next to the target, then a rename
// replaces the target, so a crash or a full disk never leaves a half-written scene or figure.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace core {

struct IoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Writes `bytes` to `path` through `path.tmp.XXXXXX` in the same folder and rename(2).
// Throws IoError naming the path (and the OS reason) on any failure; the temporary is removed.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Reads a whole file. Throws IoError naming the path when it cannot be opened or read.
std::string read_file(const std::string& path);

}  // namespace core
