#include "app/app_args.h"

#include <cstdlib>
#include <string_view>

namespace app {
namespace {

bool parse_int(const char* s, int lo, int hi, int& out) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (!s[0] || *end || v < lo || v > hi) return false;
  out = static_cast<int>(v);
  return true;
}

// The flags that take a value (the others are switches handled before value() is asked).
bool takes_value(std::string_view f) {
  static constexpr std::string_view kValued[] = {"--scene",          "--screenshot",
                                                 "--view",           "--theme",
                                                 "--lecture",        "--layout",
                                                 "--export-focused", "--live-steps",
                                                 "--frames",         "--slide",
                                                 "--width",          "--live-then-model",
                                                 "--height",         "--live-then-window",
                                                 "--mouse"};
  for (std::string_view k : kValued)
    if (f == k) return true;
  return false;
}

}  // namespace

const char* app_usage() {
  return "usage: attnlab [--scene FILE] [--view V] [--theme dark|light] [--layout single|grid]\n"
         "               [--width W] [--height H] [--frames N] [--screenshot OUT.png]\n"
         "               [--frame-stats] [--animate] [--export-dialog]\n"
         "               [--export-focused OUT.png|svg|pdf]\n"
         "               [--lecture FILE] [--present] [--slide K]\n"
         "               [--wait-idle] [--print-status] [--live-steps N] [--live-then-model P]\n"
         "               [--live-then-window W] [--mouse X,Y] [--trace-model]\n"
         "       attnlab <command> ...   (stats, export, ...; see attnlab help)\n";
}

std::optional<AppArgs> parse_app_args(int argc, char** argv, std::string& error) {
  AppArgs a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view f = argv[i];
    auto value = [&](const char*& out) {
      if (!takes_value(f)) {
        error = f.starts_with("-")
                    ? "unknown flag " + std::string(f)
                    : "unknown command '" + std::string(f) + "' (attnlab help lists the commands)";
        return false;
      }
      if (i + 1 >= argc) {
        error = std::string(f) + " needs a value";
        return false;
      }
      out = argv[++i];
      return true;
    };
    const char* v = nullptr;
    if (f == "--frame-stats") {
      a.frame_stats = true;
    } else if (f == "--wait-idle") {
      a.wait_idle = true;
    } else if (f == "--print-status") {
      a.print_status = true;
    } else if (f == "--trace-model") {
      a.trace_model = true;
    } else if (f == "--present") {
      a.present = true;
    } else if (f == "--animate") {
      a.animate = true;
    } else if (f == "--export-dialog") {
      a.export_dialog = true;
    } else if (f == "--help" || f == "-h") {
      error = "";
      return std::nullopt;
    } else if (!value(v)) {
      if (error.empty()) error = "unknown flag " + std::string(f);
      return std::nullopt;
    } else if (f == "--scene") {
      a.scene = v;
    } else if (f == "--screenshot") {
      a.screenshot = v;
    } else if (f == "--view") {
      a.view = v;
    } else if (f == "--theme") {
      a.theme = v;
      if (a.theme != "dark" && a.theme != "light") {
        error = "--theme: expected dark or light, got '" + a.theme + "'";
        return std::nullopt;
      }
    } else if (f == "--lecture") {
      a.lecture = v;
    } else if (f == "--export-focused") {
      a.export_focused = v;
    } else if (f == "--layout") {
      const std::string_view l = v;
      if (l != "single" && l != "grid") {
        error = "--layout: expected single or grid, got '" + std::string(l) + "'";
        return std::nullopt;
      }
      a.grid = l == "grid";
    } else if (f == "--live-then-model") {
      a.live_then_model = v;
    } else if (f == "--live-then-window") {
      if (!parse_int(v, 1, 1 << 20, a.live_then_window)) {
        error = "--live-then-window: expected a window 1..1048576, got '" + std::string(v) + "'";
        return std::nullopt;
      }
    } else if (f == "--mouse") {
      const std::string xy = v;
      const size_t comma = xy.find(',');
      if (comma == std::string::npos ||
          !parse_int(xy.substr(0, comma).c_str(), 0, 16384, a.mouse_x) ||
          !parse_int(xy.substr(comma + 1).c_str(), 0, 16384, a.mouse_y)) {
        error = "--mouse: expected X,Y in pixels, got '" + xy + "'";
        return std::nullopt;
      }
    } else if (f == "--live-steps") {
      if (!parse_int(v, 1, 4096, a.live_steps)) {
        error = "--live-steps: expected a count 1..4096, got '" + std::string(v) + "'";
        return std::nullopt;
      }
    } else if (f == "--frames") {
      if (!parse_int(v, 1, 1000000, a.frames)) {
        error = "--frames: expected a count 1..1000000, got '" + std::string(v) + "'";
        return std::nullopt;
      }
    } else if (f == "--slide") {
      if (!parse_int(v, 1, 100000, a.slide)) {
        error = "--slide: expected a slide number from 1, got '" + std::string(v) + "'";
        return std::nullopt;
      }
      a.slide -= 1;
    } else if (f == "--width" || f == "--height") {
      int& out = f == "--width" ? a.width : a.height;
      if (!parse_int(v, 200, 16384, out)) {
        error = std::string(f) + ": expected pixels 200..16384, got '" + std::string(v) + "'";
        return std::nullopt;
      }
    } else {
      error = "unknown flag " + std::string(f);
      return std::nullopt;
    }
  }
  return a;
}

}  // namespace app
