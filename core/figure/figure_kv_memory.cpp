#include <algorithm>
#include <cmath>

#include "core/figure/axes.h"
#include "core/figure/decorate.h"
#include "core/figure/view_registry.h"
#include "core/figure/views.h"
#include "core/views/kv_memory.h"

namespace fig {
namespace {

// Round ticks in the binary unit of the largest value (0, 128 MiB, 256 MiB, ...), so the
// labels read as whole KiB/MiB/GiB rather than 19.1 MiB.
std::vector<double> byte_ticks(double hi, int target) {
  double unit = 1;
  while (hi / unit >= 1024) unit *= 1024;
  std::vector<double> ticks = nice_ticks(0, hi / unit, target);
  for (double& v : ticks) v *= unit;
  return ticks;
}

}  // namespace

Figure figure_kv_memory(const core::KvMemorySeries& m, const core::Scene& s, const Theme& t,
                        FigureSize size) {
  Figure f = make_figure(t, resolve_size(size, kFigureWidth, kFigureHeight).width,
                         resolve_size(size, kFigureWidth, kFigureHeight).height);
  f.title = s.title.empty() ? view_title("kv_memory") : s.title;
  f.caption = s.caption;
  f.x_label = std::string("sequence length (tokens") + (m.log_x ? ", log scale)" : ")");
  f.y_label = std::string("KV-cache bytes") + (m.log_x ? " (log scale)" : "");

  std::vector<std::string> info;
  info.push_back(
      s.preset + ", " + core::dtype_name(s.dtype) + ", batch " + std::to_string(s.batch) + ": " +
      core::format_bytes(static_cast<double>(m.bytes_per_token)) + " per token = 2 x " +
      std::to_string(s.n_layers) + " layers x " + std::to_string(s.n_kv_heads) + " KV heads x " +
      std::to_string(s.head_dim) + " x " + std::to_string(core::dtype_bytes(s.dtype)) + " B");
  std::string at = "at N=" + format_count(m.seq_len) + ":";
  for (const core::KvCurve& c : m.curves) {
    const std::string name = c.label.substr(0, c.label.find(" ("));
    at += " " + name + " " + core::format_bytes(static_cast<double>(c.bytes_at_seq_len)) + ";";
  }
  at.pop_back();
  info.push_back(at);
  info.push_back("exact: full " + format_count(m.bytes_full) + " B, rolling " +
                 format_count(m.bytes_rolling) + " B, MLA " + format_count(m.bytes_mla) + " B");
  for (size_t i = 0; i < m.curves.size(); ++i)
    f.legend.push_back({palette_color(t, static_cast<int>(i)), m.curves[i].label,
                        m.curves[i].kind == core::KvCurveKind::Rolling});

  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  req.left = t.small_size * 5.5f;
  req.bottom = t.small_size * 1.8f;
  // The value labels right of the seq_len dots may reach past the plot; keep them off the legend.
  req.right = text_width("1023 MiB", t.small_size) + t.line_width + 12;
  const Layout l = plan_layout(f, t, req);
  const Rect& plot = l.plot;

  double ymax = 1, ymin_pos = 0;
  for (const core::KvCurve& c : m.curves)
    for (double b : c.bytes) {
      ymax = std::max(ymax, b);
      if (b > 0) ymin_pos = ymin_pos > 0 ? std::min(ymin_pos, b) : b;
    }
  const double xmin = m.log_x ? std::max<double>(1, m.x.front()) : 0;
  const double xmax = static_cast<double>(m.x.back());
  const AxisMap xa{xmin, xmax, m.log_x, plot.x, plot.x + plot.w};
  const AxisMap ya{m.log_x ? std::max(1.0, ymin_pos) : 0, ymax * (m.log_x ? 1.0 : 1.05), m.log_x,
                   plot.y + plot.h, plot.y};
  auto fmt_bytes = [](double v) { return core::format_bytes(v); };
  add_x_ticks(
      f, t, plot, xa, m.log_x ? pow2_ticks(xmin, xmax, 8) : nice_ticks(0, xmax, 6),
      [](double v) { return format_tokens(v); }, true);
  add_y_ticks(f, t, plot, ya, m.log_x ? pow2_ticks(ya.lo, ya.hi, 8) : byte_ticks(ya.hi, 6),
              fmt_bytes, true);
  add_frame(f, t, plot);

  for (size_t i = 0; i < m.curves.size(); ++i) {
    const core::KvCurve& c = m.curves[i];
    Polyline line;
    line.color = palette_color(t, static_cast<int>(i));
    line.width = t.line_width;
    line.dashed = c.kind == core::KvCurveKind::Rolling;
    for (size_t j = 0; j < m.x.size(); ++j) {
      if (m.log_x && (m.x[j] <= 0 || c.bytes[j] <= 0)) continue;
      line.pts.push_back({xa.map(static_cast<double>(m.x[j])), ya.map(c.bytes[j])});
    }
    f.marks.push_back(line);
  }
  // The slider's seq_len: a vertical mark and the exact value on every curve.
  const float sx = xa.map(m.seq_len);
  Polyline mark;
  mark.pts = {{sx, plot.y}, {sx, plot.y + plot.h}};
  mark.color = t.muted;
  mark.width = 1;
  mark.dashed = true;
  f.marks.push_back(mark);
  f.marks.push_back(
      text_mark(t, sx, plot.y - 4, "N=" + format_count(m.seq_len), t.small_size, Anchor::Center));
  // Value labels next to the dots. Curves with the same value (MQA and the rolling buffer at
  // N = W) share one label; the rest are pushed apart vertically and sit on a background
  // patch, so neither each other nor the curves running through them hide the digits.
  struct ValueLabel {
    float y;
    std::string text;
    Rgba color;
  };
  std::vector<ValueLabel> labels;
  for (size_t i = 0; i < m.curves.size(); ++i) {
    const core::KvCurve& c = m.curves[i];
    Markers dot;
    dot.color = palette_color(t, static_cast<int>(i));
    dot.radius = t.line_width + 2.5f;
    const float yy = ya.map(static_cast<double>(c.bytes_at_seq_len));
    dot.pts = {{sx, yy}};
    f.marks.push_back(dot);
    const std::string text = core::format_bytes(static_cast<double>(c.bytes_at_seq_len));
    bool shared = false;
    for (ValueLabel& v : labels)
      if (v.text == text) {
        v.color = t.foreground;  // one label for several curves: no single curve's colour
        shared = true;
      }
    if (!shared) labels.push_back({yy + t.small_size * 0.35f, text, dot.color});
  }
  std::sort(labels.begin(), labels.end(),
            [](const ValueLabel& a, const ValueLabel& b) { return a.y < b.y; });
  const float gap = t.small_size * 1.25f;
  for (size_t k = labels.size(); k-- > 1;)  // bottom-up: each label sits above the next
    labels[k - 1].y = std::min(labels[k - 1].y, labels[k].y - gap);
  float floor_y = plot.y + t.small_size;  // then top-down, so none leaves the plot
  for (ValueLabel& v : labels) {
    v.y = std::max(v.y, floor_y);
    floor_y = v.y + gap;
  }
  for (const ValueLabel& v : labels) {
    const float x = sx + t.line_width + 8;
    Rgba patch = t.background;
    patch.a = 0.85f;
    f.marks.push_back(Rect{x - 2, v.y - t.small_size * 0.95f, text_width(v.text, t.small_size) + 4,
                           t.small_size * 1.2f, patch, Rgba{0, 0, 0, 0}, 0});
    Text label = text_mark(t, x, v.y, v.text, t.small_size);
    label.color = v.color;
    f.marks.push_back(label);
  }
  decorate(f, t, l, info);
  return f;
}

}  // namespace fig
