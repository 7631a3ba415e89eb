// Helpers shared by the exporter tests: temporary folders, running the CLI, decoding PNGs.
#pragma once

#include <cairo.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace export_test {

// A fresh folder under /tmp, removed when the object goes away.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/attnlab_export_test.XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

struct RunResult {
  int code = -1;
  std::string out;  // stdout and stderr together
};

// Runs a shell command, returning its exit status and combined output.
inline RunResult run(const std::string& cmd) {
  RunResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline bool have_tool(const std::string& name) {
  return run("command -v " + name + " >/dev/null").code == 0;
}

// A decoded image as 8-bit, non-premultiplied RGB (alpha is composited over white).
struct Rgb {
  int w = 0, h = 0;
  std::vector<unsigned char> px;  // [h * w * 3]
};

struct ReadCtx {
  const std::string* data;
  size_t pos = 0;
};

inline cairo_status_t read_bytes(void* closure, unsigned char* out, unsigned int len) {
  auto* c = static_cast<ReadCtx*>(closure);
  if (c->pos + len > c->data->size()) return CAIRO_STATUS_READ_ERROR;
  std::copy(c->data->begin() + c->pos, c->data->begin() + c->pos + len, out);
  c->pos += len;
  return CAIRO_STATUS_SUCCESS;
}

// Decodes PNG bytes; keeps alpha when `alpha` is given (premultiplied ARGB32 -> straight).
inline Rgb decode_png(const std::string& bytes, std::vector<unsigned char>* alpha = nullptr) {
  ReadCtx ctx{&bytes};
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(read_bytes, &ctx);
  Rgb img;
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    return img;
  }
  img.w = cairo_image_surface_get_width(s);
  img.h = cairo_image_surface_get_height(s);
  const int stride = cairo_image_surface_get_stride(s);
  const unsigned char* d = cairo_image_surface_get_data(s);
  const cairo_format_t fmt = cairo_image_surface_get_format(s);
  img.px.resize(static_cast<size_t>(img.w) * img.h * 3);
  if (alpha) alpha->resize(static_cast<size_t>(img.w) * img.h);
  for (int y = 0; y < img.h; ++y)
    for (int x = 0; x < img.w; ++x) {
      const uint32_t v = reinterpret_cast<const uint32_t*>(d + static_cast<size_t>(y) * stride)[x];
      const int a = fmt == CAIRO_FORMAT_ARGB32 ? int(v >> 24) : 255;
      const int rgb[3] = {int((v >> 16) & 255), int((v >> 8) & 255), int(v & 255)};
      for (int c = 0; c < 3; ++c) {
        // Straight colour over white for the comparison; keep straight colour for `alpha`.
        const int straight = a > 0 ? std::min(255, (rgb[c] * 255 + a / 2) / a) : 0;
        img.px[(static_cast<size_t>(y) * img.w + x) * 3 + c] =
            static_cast<unsigned char>(alpha ? straight : std::min(255, rgb[c] + (255 - a)));
      }
      if (alpha) (*alpha)[static_cast<size_t>(y) * img.w + x] = static_cast<unsigned char>(a);
    }
  cairo_surface_destroy(s);
  return img;
}

// Root-mean-square difference of two same-sized images, channels scaled to [0, 1].
inline double rmse(const Rgb& a, const Rgb& b) {
  if (a.w != b.w || a.h != b.h || a.px.empty()) return 1e9;
  double sum = 0;
  for (size_t i = 0; i < a.px.size(); ++i) {
    const double d = (double(a.px[i]) - double(b.px[i])) / 255.0;
    sum += d * d;
  }
  return std::sqrt(sum / static_cast<double>(a.px.size()));
}

inline std::string base64_decode(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (char c : in) {
    const int v = val(c);
    if (v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 255));
    }
  }
  return out;
}

// Non-overlapping occurrences of `needle` in `hay`.
inline int count_of(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size()))
    ++n;
  return n;
}

}  // namespace export_test

namespace export_test {

// Mean of each k x k block: anti-aliasing at edges (cairo and poppler rasterise glyph and
// rectangle edges differently) averages out, while a missing or moved mark does not.
inline Rgb box_downsample(const Rgb& a, int k) {
  Rgb out;
  out.w = a.w / k;
  out.h = a.h / k;
  out.px.resize(static_cast<size_t>(out.w) * out.h * 3);
  for (int y = 0; y < out.h; ++y)
    for (int x = 0; x < out.w; ++x)
      for (int c = 0; c < 3; ++c) {
        int sum = 0;
        for (int dy = 0; dy < k; ++dy)
          for (int dx = 0; dx < k; ++dx)
            sum += a.px[((static_cast<size_t>(y) * k + dy) * a.w + x * k + dx) * 3 + c];
        out.px[(static_cast<size_t>(y) * out.w + x) * 3 + c] =
            static_cast<unsigned char>((sum + k * k / 2) / (k * k));
      }
  return out;
}

}  // namespace export_test
