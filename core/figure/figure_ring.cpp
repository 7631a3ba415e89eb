#include <algorithm>
#include <limits>

#include "core/figure/axes.h"
#include "core/figure/colormap.h"
#include "core/figure/decorate.h"
#include "core/figure/view_registry.h"
#include "core/figure/views.h"
#include "core/views/ring_state.h"

namespace fig {
namespace {

constexpr int kMaxBoxes = 64;  // beyond this many slots a row is drawn as a heatmap

Rgba with_alpha(Rgba c, float a) {
  c.a = a;
  return c;
}

// One row of labelled boxes; `fill[i]` alpha 0 leaves box i empty.
void box_row(Figure& f, const Theme& t, float x, float y, float w, float h,
             const std::vector<std::string>& labels, const std::vector<Rgba>& fill) {
  const float bw = w / std::max<size_t>(1, labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    f.marks.push_back(Rect{x + i * bw + 1, y, bw - 2, h, fill[i], t.grid, 1});
    if (bw >= t.small_size * 0.6f * labels[i].size())
      f.marks.push_back(text_mark(t, x + (i + 0.5f) * bw, y + h / 2 + t.small_size * 0.35f,
                                  labels[i], t.small_size, Anchor::Center));
  }
}

Heatmap position_strip(const std::vector<int>& pos, float x, float y, float w, float h,
                       const Theme& t, Colormap cmap, int id) {
  Heatmap hm;
  hm.x = x;
  hm.y = y;
  hm.w = w;
  hm.h = h;
  hm.rows = 1;
  hm.cols = static_cast<int>(pos.size());
  hm.cmap = cmap;
  hm.masked = t.masked;
  hm.id = id;
  int hi = 0;
  for (int p : pos) hi = std::max(hi, p);
  hm.vmin = 0;
  hm.vmax = static_cast<float>(std::max(1, hi));
  for (int p : pos)
    hm.values.push_back(p >= 0 ? static_cast<float>(p) : std::numeric_limits<float>::quiet_NaN());
  return hm;
}

}  // namespace

Figure figure_ring(const core::RingState& r, const core::Scene& s, const Theme& t,
                   FigureSize size) {
  const Colormap cmap = parse_colormap(s.colormap).value_or(Colormap::Viridis);
  Figure f = make_figure(t, resolve_size(size, kFigureWidth, kFigureHeight).width,
                         resolve_size(size, kFigureWidth, kFigureHeight).height);
  f.title = s.title.empty() ? view_title("ring") : s.title;
  f.caption = s.caption;
  const int w = r.window;
  std::vector<std::string> info;
  const int held = static_cast<int>(r.unrotated_positions.size());
  info.push_back(std::to_string(w) + " slots" + (s.window > 0 ? "" : " (no window: full cache)") +
                 ", step t=" + std::to_string(r.step) + ": position p lives in slot p mod " +
                 std::to_string(w) + "; " +
                 (held ? "holds positions " + std::to_string(r.unrotated_positions.front()) + ".." +
                             std::to_string(r.unrotated_positions.back())
                       : std::string("empty")));
  std::string last = r.last_slot < 0
                         ? "nothing written yet"
                         : "last write: position " + std::to_string(r.step - 1) + " -> slot " +
                               std::to_string(r.last_slot) +
                               (r.evicted >= 0 ? ", evicted position " + std::to_string(r.evicted)
                                               : ", into an empty slot");
  info.push_back("next write: position " + std::to_string(r.step) + " -> slot " +
                 std::to_string(r.write_ptr) + "; " + last);
  if (r.chunk > 0 && r.chunk_mask.rows > 0)
    info.push_back("prefill in chunks of C=" + std::to_string(r.chunk) + ": chunk " +
                   std::to_string(r.chunk_mask.chunk_index) +
                   " attends to the cache before it, then to its own keys");
  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  req.left = t.small_size * 7;
  const Layout l = plan_layout(f, t, req);
  const Rect& plot = l.plot;

  const bool boxes = w <= kMaxBoxes;
  const float row_h = boxes ? std::min(34.0f, plot.h / 8) : 22.0f;
  float y = plot.y + t.small_size * 1.6f;  // room for the write-pointer label
  auto row_label = [&](const std::string& s2, float yy) {
    f.marks.push_back(text_mark(t, plot.x - 8, yy + row_h / 2 + t.small_size * 0.35f, s2,
                                t.small_size, Anchor::Right));
  };

  // Slots in storage order.
  row_label("slots", y);
  const float bw = plot.w / w;
  if (boxes) {
    std::vector<std::string> labels;
    std::vector<Rgba> fill;
    for (int i = 0; i < w; ++i) {
      labels.push_back(r.slots[i] >= 0 ? std::to_string(r.slots[i]) : "-");
      fill.push_back(i == r.last_slot ? with_alpha(t.highlight, 0.85f)
                                      : (r.slots[i] >= 0 ? with_alpha(palette_color(t, 1), 0.35f)
                                                         : Rgba{0, 0, 0, 0}));
    }
    box_row(f, t, plot.x, y, plot.w, row_h, labels, fill);
  } else {
    f.marks.push_back(
        position_strip(r.slots, plot.x, y, plot.w, row_h, t, cmap, kRingSlotsHeatmapId));
  }
  Polyline ptr;  // write pointer: a small triangle above the next slot
  const float px = plot.x + (r.write_ptr + 0.5f) * bw;
  ptr.pts = {{px - 5, y - 9}, {px + 5, y - 9}, {px, y - 2}};
  ptr.closed = true;
  ptr.color = t.highlight;
  ptr.width = 2;
  f.marks.push_back(ptr);
  f.marks.push_back(text_mark(t, px, y - 11, "write", t.small_size, Anchor::Center));
  y += row_h + t.small_size * 1.2f;

  // The same tokens oldest to newest: what attention sees once the ring is unrotated.
  row_label("oldest..newest", y);
  if (boxes) {
    std::vector<std::string> labels;
    std::vector<Rgba> fill;
    for (int i = 0; i < held; ++i) {
      labels.push_back(std::to_string(r.unrotated_positions[i]));
      fill.push_back(with_alpha(palette_color(t, 1), 0.35f));
    }
    if (held > 0) box_row(f, t, plot.x, y, bw * held, row_h, labels, fill);
  } else {
    f.marks.push_back(
        position_strip(r.unrotated_positions, plot.x, y, bw * held, row_h, t, cmap, 0));
  }
  y += row_h + t.small_size * 1.6f;

  // Which slots each prefill chunk writes, one row per chunk (the last ones when many).
  if (!r.chunks.empty()) {
    const size_t max_rows = 12;
    const size_t first = r.chunks.size() > max_rows ? r.chunks.size() - max_rows : 0;
    const float ch_h = std::min(row_h, 20.0f);
    for (size_t c = first; c < r.chunks.size(); ++c) {
      const core::RingChunk& ch = r.chunks[c];
      row_label("chunk @" + std::to_string(ch.start), y - (row_h - ch_h) / 2);
      f.marks.push_back(Rect{plot.x, y, plot.w, ch_h, Rgba{0, 0, 0, 0}, t.grid, 0.5f});
      const Rgba col = with_alpha(palette_color(t, static_cast<int>(c)), 0.8f);
      // Consecutive slots merge into one rect: a chunk is at most a few runs (it wraps at
      // slot W-1), however long it is, so a 4096-slot ring stays a handful of marks.
      for (size_t i = 0; i < ch.slots.size();) {
        size_t j = i + 1;
        while (j < ch.slots.size() && ch.slots[j] == ch.slots[j - 1] + 1) ++j;
        const int run = ch.slots[j - 1] - ch.slots[i] + 1;
        f.marks.push_back(
            Rect{plot.x + ch.slots[i] * bw, y, std::max(bw * run, 1.0f), ch_h, col, Rgba{}, 0});
        i = j;
      }
      y += ch_h + 2;
    }
    y += t.small_size * 1.2f;
  }

  // The chunk x (cache + chunk) mask of the last chunk.
  const core::RingChunkMask& cm = r.chunk_mask;
  if (cm.rows > 0 && y < plot.y + plot.h - 20) {
    const float avail_h = plot.y + plot.h - y - t.small_size * 1.5f;
    const float cell = std::min({plot.w / cm.cols, avail_h / cm.rows, 24.0f});
    Heatmap hm;
    hm.x = plot.x;
    hm.y = y + t.small_size * 1.4f;
    hm.w = cell * cm.cols;
    hm.h = cell * cm.rows;
    hm.rows = cm.rows;
    hm.cols = cm.cols;
    hm.cmap = cmap;
    hm.masked = t.masked;
    hm.id = kRingChunkMaskHeatmapId;
    for (uint8_t v : cm.visible)
      hm.values.push_back(v ? 1.0f : std::numeric_limits<float>::quiet_NaN());
    f.marks.push_back(hm);
    f.marks.push_back(
        text_mark(t, hm.x, y + t.small_size, "cache slots (before the chunk)", t.small_size));
    // Left-aligned at the separator unless that runs off the page; then flush right.
    const float keys_x = hm.x + cm.cache_cols * cell;
    if (keys_x + text_width("| chunk keys", t.small_size) <= f.width - t.small_size)
      f.marks.push_back(text_mark(t, keys_x, y + t.small_size, "| chunk keys", t.small_size));
    else
      f.marks.push_back(
          text_mark(t, hm.x + hm.w, y + t.small_size, "chunk keys", t.small_size, Anchor::Right));
    Polyline sep;
    sep.pts = {{hm.x + cm.cache_cols * cell, hm.y}, {hm.x + cm.cache_cols * cell, hm.y + hm.h}};
    sep.color = t.highlight;
    sep.width = 2;
    f.marks.push_back(sep);
    row_label("chunk queries", hm.y + hm.h / 2 - row_h / 2);
  }
  decorate(f, t, l, info);
  return f;
}

}  // namespace fig
