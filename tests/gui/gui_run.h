// Helpers for the GUI tests: run the real attnlab binary (under the Xvfb display the suite
// runs in), read its screenshots and look at their pixels.
#pragma once

#include <gtest/gtest.h>
#include <stb/stb_image.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/figure/figure.h"

namespace gui {

struct RunResult {
  int rc = -1;
  std::string out, err;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A fresh temp folder per test, removed at the end.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "attnlab_gui_XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline std::string quote(const std::string& s) {
  std::string q;
  q.reserve(s.size() + 8);
  q.push_back('\'');
  for (char c : s) {
    if (c == '\'') {
      q.append("'\\''");
    } else {
      q.push_back(c);
    }
  }
  q.push_back('\'');
  return q;
}

// Runs `env env_prefix attnlab args...` (env_prefix: env options such as -u DISPLAY) with HOME and
// XDG_CONFIG_HOME inside `tmp`, so the app's remembered settings never touch the real home.
inline RunResult run_app(const TempDir& tmp, const std::vector<std::string>& args,
                         const std::string& env_prefix = "") {
  std::string cmd = "env ";
  cmd.append(env_prefix).append(" HOME=").append(quote(tmp / "home"));
  cmd.append(" XDG_CONFIG_HOME=").append(quote(tmp / "config")).append(" ");
  cmd.append(quote(ATTNLAB_BINARY));
  for (const std::string& a : args) cmd.append(" ").append(quote(a));
  cmd.append(" >")
      .append(quote(tmp / "stdout.txt"))
      .append(" 2>")
      .append(quote(tmp / "stderr.txt"));
  RunResult r;
  const int status = std::system(cmd.c_str());
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(tmp / "stdout.txt");
  r.err = read_text(tmp / "stderr.txt");
  return r;
}

inline bool have_display() {
  const char* d = std::getenv("DISPLAY");
  return d && *d;
}

#define ATTNLAB_NEED_DISPLAY()                                                                \
  if (!gui::have_display())                                                                   \
  GTEST_SKIP() << "no DISPLAY: run GUI tests under xvfb-run -a -s \"-screen 0 1600x900x24\" " \
                  "(scripts/test does)"

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

inline Rgb to_rgb(const fig::Rgba& c) {
  auto ch = [](float v) {
    return static_cast<uint8_t>(std::lround(std::fmin(std::fmax(v, 0.f), 1.f) * 255));
  };
  return {ch(c.r), ch(c.g), ch(c.b)};
}

struct Image {
  int w = 0, h = 0;
  std::vector<uint8_t> px;  // RGB rows, top first
  Rgb at(int x, int y) const {
    const uint8_t* p = &px[(static_cast<size_t>(y) * w + x) * 3];
    return {p[0], p[1], p[2]};
  }
  // Pixels equal to `c` inside [x0, x1) x [y0, y1).
  int count(Rgb c, int x0, int y0, int x1, int y1) const {
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) n += at(x, y) == c;
    return n;
  }
  int distinct_colours(int x0, int y0, int x1, int y1) const {
    std::vector<uint32_t> seen;
    for (int y = y0; y < y1; y += 2)
      for (int x = x0; x < x1; x += 2) {
        const Rgb c = at(x, y);
        seen.push_back((c.r << 16) | (c.g << 8) | c.b);
      }
    std::sort(seen.begin(), seen.end());
    return static_cast<int>(std::unique(seen.begin(), seen.end()) - seen.begin());
  }
};

inline Image load_png(const std::string& path) {
  Image img;
  int n = 0;
  unsigned char* data = stbi_load(path.c_str(), &img.w, &img.h, &n, 3);
  if (!data) return img;
  img.px.assign(data, data + static_cast<size_t>(img.w) * img.h * 3);
  stbi_image_free(data);
  return img;
}

}  // namespace gui
