#include "app/frame_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace app {
namespace {

// Nearest-rank percentile of the samples after `skip`.
double percentile(std::vector<double> v, size_t skip, double p) {
  if (v.size() > skip + 2) v.erase(v.begin(), v.begin() + static_cast<long>(skip));
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

std::string line(const char* name, const std::vector<double>& v, int warmup) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s: median %.3f ms, p95 %.3f ms\n", name,
                percentile(v, static_cast<size_t>(warmup), 50),
                percentile(v, static_cast<size_t>(warmup), 95));
  return buf;
}

}  // namespace

std::string frame_stats_report(const FrameStats& s, int warmup) {
  std::string out;
  if (!s.figure_build_ms.empty()) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "figure builds: %zu, median %.3f ms, max %.3f ms\n",
                  s.figure_build_ms.size(), percentile(s.figure_build_ms, 0, 50),
                  percentile(s.figure_build_ms, 0, 100));
    out += buf;
  }
  if (!s.render_cpu_ms.empty()) out += line("render cpu", s.render_cpu_ms, warmup);
  return out + line("ui build", s.ui_ms, warmup) + line("render", s.render_ms, warmup);
}

}  // namespace app
