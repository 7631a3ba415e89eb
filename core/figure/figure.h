// Figure: what a view looks like, as plain marks in figure units (1 unit = 1 px at scale 1,
// origin top-left, y down). The app draws it with ImGui (heatmaps as GL textures) and
// core/export draws the same marks with cairo, so the screen and the slides cannot disagree.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace fig {

struct Rgba {
  float r = 0, g = 0, b = 0, a = 1;
};

enum class Colormap { Viridis, Cividis, Diverging };
enum class ValueScale { Linear, Log, Gamma };
enum class Anchor { Left, Center, Right };

struct Point {
  float x = 0, y = 0;
};

struct Rect {
  float x = 0, y = 0, w = 0, h = 0;
  Rgba fill{0, 0, 0, 0};    // alpha 0 = no fill
  Rgba stroke{0, 0, 0, 0};  // alpha 0 = no outline
  float stroke_width = 0;
};

struct Polyline {
  std::vector<Point> pts;
  Rgba color;
  float width = 1;
  bool dashed = false;
  bool closed = false;
};

// A marker of radius r at each point (scatter / measured points on a chart).
struct Markers {
  std::vector<Point> pts;
  Rgba color;
  float radius = 3;
};

struct Text {
  float x = 0, y = 0;  // anchor point; y is the text baseline
  std::string text;
  float size = 12;  // font size in figure units
  Rgba color;
  Anchor anchor = Anchor::Left;
  float angle_deg = 0;  // counter-clockwise rotation about the anchor (y labels use 90)
  bool bold = false;
  bool caption = false;  // a line of the figure caption (ExportOptions::caption can drop it)
};

// A value grid drawn through a colormap: values [rows*cols] row-major, row 0 at the top.
// NaN marks a masked / empty cell, drawn in `masked` (the theme background by default).
struct Heatmap {
  float x = 0, y = 0, w = 0, h = 0;
  int rows = 0, cols = 0;
  std::vector<float> values;
  float vmin = 0, vmax = 1;
  Colormap cmap = Colormap::Viridis;
  ValueScale scale = ValueScale::Linear;
  float gamma = 1.0f;
  Rgba masked;
  int id = 0;  // lets the app map a hovered pixel back to (row, col) of a known grid
};

using Mark = std::variant<Rect, Polyline, Markers, Text, Heatmap>;

// A region the app explains on hover (not drawn): the view's describe() gets (id, row, col).
// Lets a figure of boxes (tiles, blocks, bars) say what each box is, as a heatmap's cells do.
struct HoverArea {
  float x = 0, y = 0, w = 0, h = 0;
  int id = 0;
  int row = 0, col = 0;
};

struct LegendEntry {
  Rgba color;
  std::string label;
  bool dashed = false;
};

struct Colorbar {
  bool present = false;
  Colormap cmap = Colormap::Viridis;
  ValueScale scale = ValueScale::Linear;
  float vmin = 0, vmax = 1;
  std::string label;
};

struct Figure {
  float width = 800, height = 600;
  Rgba background;
  Rgba foreground;
  std::string title;
  std::string caption;  // optional; shown under the plot on export
  std::string x_label, y_label;
  std::vector<Mark> marks;  // drawn in order
  std::vector<LegendEntry> legend;
  Colorbar colorbar;
  std::vector<HoverArea> hover_areas;  // the last one holding the mouse wins
};

}  // namespace fig
