// Atomic file writes: the bytes go to a temporary file next to the target, then a rename
// replaces the target, so a crash or a full disk never leaves a half-written scene or figure.
#pragma once

#include <cstddef>
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

// Largest file read whole (scenes, lectures, prompts, text for perplexity): 16 MiB. A scene
// is a few KB and a long prompt a few hundred; the cap keeps /dev/zero or a stray video from
// exhausting memory.
inline constexpr size_t kMaxReadBytes = size_t{16} << 20;

// Reads a whole file of at most `max_bytes`. Throws IoError naming the path when it cannot be
// opened or read, or is larger.
std::string read_file(const std::string& path, size_t max_bytes = kMaxReadBytes);

}  // namespace core
