// Screenshot of the back buffer (call after rendering, before the swap).
#pragma once

#include <string>

namespace app {

// Reads the framebuffer (width x height), flips it to top-down rows and writes a PNG.
// Returns false with `error` set when the file cannot be written.
bool write_screenshot(const std::string& path, int width, int height, std::string& error);

}  // namespace app
