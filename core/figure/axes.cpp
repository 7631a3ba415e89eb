#include "core/figure/axes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/figure/decorate.h"

namespace fig {

float AxisMap::map(double v) const {
  double t;
  if (log) {
    const double a = std::log2(lo), b = std::log2(hi);
    t = b > a ? (std::log2(std::max(v, lo)) - a) / (b - a) : 0.0;
  } else {
    t = hi > lo ? (v - lo) / (hi - lo) : 0.0;
  }
  return static_cast<float>(p0 + t * (p1 - p0));
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> out;
  if (!(hi > lo) || target < 1) return {lo};
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

std::vector<double> pow2_ticks(double lo, double hi, int target) {
  std::vector<double> out;
  if (!(lo > 0) || !(hi >= lo)) return out;
  const int a = static_cast<int>(std::ceil(std::log2(lo) - 1e-9));
  const int b = static_cast<int>(std::floor(std::log2(hi) + 1e-9));
  const int span = b - a + 1;
  const int stride = std::max(1, (span + std::max(1, target) - 1) / std::max(1, target));
  for (int e = a; e <= b; e += stride) out.push_back(std::ldexp(1.0, e));
  return out;
}

void add_frame(Figure& f, const Theme& t, const Rect& plot) {
  Polyline axes;
  axes.pts = {{plot.x, plot.y}, {plot.x, plot.y + plot.h}, {plot.x + plot.w, plot.y + plot.h}};
  axes.color = t.foreground;
  axes.width = 1;
  f.marks.push_back(axes);
}

void add_x_ticks(Figure& f, const Theme& t, const Rect& plot, const AxisMap& ax,
                 const std::vector<double>& ticks, const TickFormat& fmt, bool grid) {
  const float y = plot.y + plot.h;
  for (double v : ticks) {
    const float x = ax.map(v);
    if (x < plot.x - 0.5f || x > plot.x + plot.w + 0.5f) continue;
    Polyline tick;
    tick.pts = {{x, grid ? plot.y : y}, {x, y + 4}};
    tick.color = grid ? t.grid : t.foreground;
    tick.width = grid ? 0.5f : 1;
    f.marks.push_back(tick);
    f.marks.push_back(text_mark(t, x, y + 6 + t.small_size, fmt(v), t.small_size, Anchor::Center));
  }
}

void add_y_ticks(Figure& f, const Theme& t, const Rect& plot, const AxisMap& ax,
                 const std::vector<double>& ticks, const TickFormat& fmt, bool grid) {
  for (double v : ticks) {
    const float y = ax.map(v);
    if (y < plot.y - 0.5f || y > plot.y + plot.h + 0.5f) continue;
    Polyline tick;
    tick.pts = {{plot.x - 4, y}, {grid ? plot.x + plot.w : plot.x, y}};
    tick.color = grid ? t.grid : t.foreground;
    tick.width = grid ? 0.5f : 1;
    f.marks.push_back(tick);
    f.marks.push_back(
        text_mark(t, plot.x - 7, y + t.small_size * 0.35f, fmt(v), t.small_size, Anchor::Right));
  }
}

std::string format_count(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string format_tokens(double v) {
  char buf[32];
  if (v >= 1048576 && std::fmod(v, 1048576) == 0)
    std::snprintf(buf, sizeof buf, "%gM", v / 1048576);
  else if (v >= 1024 && std::fmod(v, 1024) == 0)
    std::snprintf(buf, sizeof buf, "%gk", v / 1024);
  else
    std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace fig
