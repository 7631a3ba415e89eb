// Axes for the chart-like figures: a value -> figure-unit map (linear or log), tick choice,
// frame and tick marks. Shared by every figure_<view>.cpp that has axes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/figure/figure.h"
#include "core/figure/theme.h"

namespace fig {

// Maps data values in [lo, hi] onto figure coordinates [p0, p1] (p1 < p0 for y axes).
struct AxisMap {
  double lo = 0, hi = 1;
  bool log = false;  // log2 spacing; lo must be > 0
  float p0 = 0, p1 = 1;
  float map(double v) const;
};

// About `target` round ticks (1, 2, 5 x 10^k) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target);

// Powers of two in [lo, hi], thinned to at most `target`.
std::vector<double> pow2_ticks(double lo, double hi, int target);

// Plot frame: left and bottom axis lines.
void add_frame(Figure& f, const Theme& t, const Rect& plot);

using TickFormat = std::function<std::string(double)>;

// Tick marks and labels below the plot (x) or left of it (y).
void add_x_ticks(Figure& f, const Theme& t, const Rect& plot, const AxisMap& ax,
                 const std::vector<double>& ticks, const TickFormat& fmt, bool grid = false);
void add_y_ticks(Figure& f, const Theme& t, const Rect& plot, const AxisMap& ax,
                 const std::vector<double>& ticks, const TickFormat& fmt, bool grid = false);

// 131073 -> "131,073".
std::string format_count(int64_t v);

// Compact token counts for ticks: 512, 4k, 32k, 1M.
std::string format_tokens(double v);

}  // namespace fig
