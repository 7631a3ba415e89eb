#include "core/figure/decorate.h"

#include <algorithm>
#include <cstdio>

namespace fig {
namespace {

constexpr float kSwatch = 30;  // legend line sample length (long enough for two dashes)
constexpr float kColorbarWidth = 14;

float margin(const Theme& t) {
  return t.font_size * 1.2f;
}
float line_h(const Theme& t) {
  return t.font_size * 1.45f;
}

std::string tick_text(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}

}  // namespace

float text_width(const std::string& s, float size, bool bold) {
  // Advance widths of DejaVu Sans (regular, bold) for ASCII 32..126 in 1/1000 em, read from
  // the font through cairo; other glyphs (x, <=, arrows) are mostly 838 wide, so use that.
  static constexpr unsigned short kRegular[95] = {
      318,  401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337,
      636,  636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531,
      1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787,
      603,  787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500,
      500,  613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
      635,  635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838};
  static constexpr unsigned short kBold[95] = {
      348,  456, 521, 838, 696, 1002, 872, 306,  457, 457, 523, 838, 380, 415,  380, 365,
      696,  696, 696, 696, 696, 696,  696, 696,  696, 696, 400, 400, 838, 838,  838, 580,
      1000, 774, 762, 734, 830, 683,  683, 821,  837, 372, 372, 775, 637, 995,  837, 850,
      733,  850, 770, 720, 682, 812,  774, 1103, 771, 724, 725, 457, 365, 457,  838, 500,
      500,  675, 716, 593, 716, 678,  435, 716,  712, 343, 343, 665, 343, 1042, 712, 687,
      716,  716, 493, 595, 478, 712,  652, 924,  645, 652, 582, 712, 365, 712,  838};
  const unsigned short* table = bold ? kBold : kRegular;
  int milli = 0;
  for (unsigned char c : s) {
    if (c >= 32 && c < 127)
      milli += table[c - 32];
    else if ((c & 0xC0) == 0xC0)
      milli += 838;  // lead byte of a multi-byte glyph
  }
  return size * static_cast<float>(milli) / 1000.0f;
}

float fit_text_size(const std::string& s, float size, float max_width, bool bold) {
  const float w = text_width(s, size, bold);
  return w > max_width && w > 0 ? size * max_width / w : size;
}

std::vector<std::string> wrap_words(const std::string& text, float max_width,
                                    const std::function<float(const std::string&)>& width) {
  std::vector<std::string> lines;
  std::string line;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\n' || text[i] == ' ') {
      if (text[i] == '\n') {
        lines.push_back(line);
        line.clear();
      }
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\n') ++j;
    const std::string word = text.substr(i, j - i);
    const std::string candidate = line.empty() ? word : line + " " + word;
    if (!line.empty() && width(candidate) > max_width) {
      lines.push_back(line);
      line = word;
    } else {
      line = candidate;
    }
    i = j;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

std::vector<std::string> wrap_words(const std::string& text, float size, float max_width) {
  return wrap_words(text, max_width, [size](const std::string& s) { return text_width(s, size); });
}

Figure make_figure(const Theme& t, float width, float height) {
  Figure f;
  f.width = width;
  f.height = height;
  f.background = t.background;
  f.foreground = t.foreground;
  return f;
}

Text text_mark(const Theme& t, float x, float y, std::string s, float size, Anchor anchor) {
  Text tx;
  tx.x = x;
  tx.y = y;
  tx.text = std::move(s);
  tx.size = size;
  tx.color = t.foreground;
  tx.anchor = anchor;
  return tx;
}

Layout plan_layout(const Figure& f, const Theme& t, const LayoutRequest& req) {
  Layout l;
  const float m = margin(t);
  float top = m;
  if (!f.title.empty()) top += t.title_size * 1.5f;
  l.info_y = top + t.font_size;
  top += req.info_lines * line_h(t) + (req.info_lines > 0 ? t.font_size * 0.6f : 0) + req.top;

  float bottom = m + req.bottom;
  if (!f.x_label.empty()) bottom += t.label_size * 1.8f;
  const size_t caption_lines = wrap_words(f.caption, t.font_size, f.width - 2 * m).size();
  if (caption_lines > 0) bottom += line_h(t) * (static_cast<float>(caption_lines) + 0.4f);

  float left = m + req.left;
  if (!f.y_label.empty()) left += t.label_size * 1.8f;

  float right = m + req.right;
  float legend_w = 0;
  for (const LegendEntry& e : f.legend)
    legend_w = std::max(legend_w, kSwatch + 8 + text_width(e.label, t.font_size));
  if (legend_w > 0) right += legend_w + m;
  float colorbar_w = 0;
  if (f.colorbar.present) {
    colorbar_w = kColorbarWidth + 8 + text_width("0.000", t.small_size) + t.label_size * 1.5f;
    right += colorbar_w + m;
  }

  l.plot = Rect{left, top, std::max(10.0f, f.width - left - right),
                std::max(10.0f, f.height - top - bottom)};
  l.x_label_y = l.plot.y + l.plot.h + req.bottom + t.label_size * 1.4f;
  l.y_label_x = m + t.label_size;
  l.legend_x = l.plot.x + l.plot.w + req.right + m;
  l.legend_y = l.plot.y;
  l.colorbar_x = l.plot.x + l.plot.w + req.right + m + (legend_w > 0 ? legend_w + m : 0);
  l.colorbar_y = l.plot.y;
  l.colorbar_h = std::min(l.plot.h, 320.0f);
  l.caption_y =
      f.height - m - line_h(t) * static_cast<float>(caption_lines > 0 ? caption_lines - 1 : 0);
  return l;
}

void decorate(Figure& f, const Theme& t, const Layout& l, const std::vector<std::string>& info) {
  const float m = margin(t);
  if (!f.title.empty()) {
    // A long title shrinks to the width instead of running off the page.
    Text title = text_mark(t, m, m + t.title_size, f.title,
                           fit_text_size(f.title, t.title_size, f.width - 2 * m, true));
    title.bold = true;
    f.marks.push_back(title);
  }
  for (size_t i = 0; i < info.size(); ++i)
    f.marks.push_back(text_mark(t, m, l.info_y + i * line_h(t), info[i],
                                fit_text_size(info[i], t.font_size, f.width - 2 * m)));
  if (!f.x_label.empty())
    f.marks.push_back(text_mark(t, l.plot.x + l.plot.w / 2, l.x_label_y, f.x_label, t.label_size,
                                Anchor::Center));
  if (!f.y_label.empty()) {
    Text y =
        text_mark(t, l.y_label_x, l.plot.y + l.plot.h / 2, f.y_label, t.label_size, Anchor::Center);
    y.angle_deg = 90;
    f.marks.push_back(y);
  }
  float ly = l.legend_y;
  for (const LegendEntry& e : f.legend) {
    Polyline sw;
    sw.pts = {{l.legend_x, ly + t.font_size * 0.6f},
              {l.legend_x + kSwatch, ly + t.font_size * 0.6f}};
    sw.color = e.color;
    sw.width = t.line_width * 2;
    sw.dashed = e.dashed;
    f.marks.push_back(sw);
    f.marks.push_back(
        text_mark(t, l.legend_x + kSwatch + 8, ly + t.font_size, e.label, t.font_size));
    ly += line_h(t);
  }
  if (f.colorbar.present) {
    Heatmap bar;
    bar.x = l.colorbar_x;
    bar.y = l.colorbar_y;
    bar.w = kColorbarWidth;
    bar.h = l.colorbar_h;
    bar.rows = 256;
    bar.cols = 1;
    bar.cmap = f.colorbar.cmap;
    bar.scale = ValueScale::Linear;  // the bar shows the colour ramp; end labels carry the scale
    bar.vmin = 0;
    bar.vmax = 1;
    bar.id = kColorbarHeatmapId;
    for (int i = 0; i < 256; ++i) bar.values.push_back(1.0f - i / 255.0f);  // top = vmax
    f.marks.push_back(bar);
    Rect outline{bar.x, bar.y, bar.w, bar.h, Rgba{0, 0, 0, 0}, t.grid, 1};
    f.marks.push_back(outline);
    const float tx = bar.x + bar.w + 5;
    f.marks.push_back(
        text_mark(t, tx, bar.y + t.small_size, tick_text(f.colorbar.vmax), t.small_size));
    f.marks.push_back(text_mark(t, tx, bar.y + bar.h, tick_text(f.colorbar.vmin), t.small_size));
    if (!f.colorbar.label.empty()) {
      const float ticks_w = std::max(text_width(tick_text(f.colorbar.vmax), t.small_size),
                                     text_width(tick_text(f.colorbar.vmin), t.small_size));
      Text lab = text_mark(t, tx + ticks_w + t.small_size * 1.3f, bar.y + bar.h / 2,
                           f.colorbar.label, t.small_size, Anchor::Center);
      lab.angle_deg = 90;
      f.marks.push_back(lab);
    }
  }
  float cy = l.caption_y;
  for (const std::string& line : wrap_words(f.caption, t.font_size, f.width - 2 * m)) {
    Text cap = text_mark(t, m, cy, line, t.font_size);
    cap.color = t.muted;
    cap.caption = true;
    f.marks.push_back(cap);
    cy += line_h(t);
  }
}

}  // namespace fig
