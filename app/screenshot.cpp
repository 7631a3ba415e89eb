#include "app/screenshot.h"

#include <GL/gl.h>
#include <stb/stb_image_write.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "core/io/atomic_write.h"

namespace app {
namespace {

void append_bytes(void* ctx, void* data, int size) {
  static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

}  // namespace

bool write_screenshot(const std::string& path, int width, int height, std::string& error) {
  std::vector<unsigned char> px(static_cast<size_t>(width) * height * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, px.data());
  const size_t row = static_cast<size_t>(width) * 3;
  std::vector<unsigned char> tmp(row);
  for (int y = 0; y < height / 2; ++y) {
    unsigned char* a = px.data() + row * y;
    unsigned char* b = px.data() + row * (height - 1 - y);
    std::memcpy(tmp.data(), a, row);
    std::memcpy(a, b, row);
    std::memcpy(b, tmp.data(), row);
  }
  std::string png;
  if (!stbi_write_png_to_func(append_bytes, &png, width, height, 3, px.data(),
                              static_cast<int>(row))) {
    error = path + ": PNG encoding failed";
    return false;
  }
  try {
    core::write_file_atomic(path, png);
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  return true;
}

}  // namespace app
