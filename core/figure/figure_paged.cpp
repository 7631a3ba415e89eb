#include <algorithm>
#include <cstdio>

#include "core/figure/axes.h"
#include "core/figure/decorate.h"
#include "core/figure/figure_systems.h"
#include "core/views/kv_memory.h"
#include "core/views/paged_view.h"

namespace fig {
namespace {

constexpr int kMaxDrawnBlocks = 512;  // beyond this the table and the pool show counts only

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * v);
  return buf;
}

Rgba seq_color(const Theme& t, int seq) {
  return palette_color(t, seq + 1);
}

// Colour of a physical block: its only holder's, or the muted "shared" colour.
Rgba block_color(const Theme& t, const core::PagedBlocks& p, int phys) {
  if (phys < 0 || phys >= static_cast<int>(p.ref.size())) return t.masked;  // released entry
  if (p.ref[phys] > 1) return t.muted;
  for (size_t s = 0; s < p.tables.size(); ++s)
    for (int b : p.tables[s])
      if (b == phys) return seq_color(t, static_cast<int>(s));
  return t.masked;
}

// One block as a box: filled part in colour, empty slots in the masked colour, its label.
void block_box(Figure& f, const Theme& t, float x, float y, float w, float h, Rgba c, int fill,
               int block, const std::string& label) {
  const float fw = w * fill / std::max(1, block);
  f.marks.push_back(Rect{x, y, w, h, t.masked, t.grid, 1});
  f.marks.push_back(Rect{x, y, fw, h, c, Rgba{0, 0, 0, 0}, 0});
  if (w < text_width(label, t.small_size) + 2) return;
  // Dark or light text, whichever reads on what lies under the label's centre.
  const Rgba under = fw >= w / 2 ? c : t.masked;
  const float luma = 0.299f * under.r + 0.587f * under.g + 0.114f * under.b;
  Text tx = text_mark(t, x + w / 2, y + h / 2 + t.small_size * 0.35f, label, t.small_size,
                      Anchor::Center);
  tx.color = luma > 0.55f ? rgb8(0x1d, 0x1d, 0x1f) : rgb8(0xf4, 0xf4, 0xf6);
  f.marks.push_back(tx);
}

}  // namespace

Figure figure_paged(const core::PagedView& v, const core::Scene& s, const Theme& t,
                    FigureSize size) {
  const core::PagedBlocks& p = v.blocks;
  const FigureSize fs = resolve_size(size, kFigureWidth, kFigureHeight);
  Figure f = make_figure(t, fs.width, fs.height);
  f.title = s.title.empty() ? kPagedTitle : s.title;
  f.caption = s.caption;
  std::vector<std::string> info;
  std::string lens;
  for (int l : v.lengths) lens += (lens.empty() ? "" : ", ") + std::to_string(l);
  info.push_back(std::to_string(v.lengths.size()) + " sequences of " + lens + " tokens" +
                 (v.prefix > 0 ? ", sharing a " + std::to_string(v.prefix) + "-token prompt" : "") +
                 "; blocks of B = " + std::to_string(v.block) + " tokens");
  info.push_back(format_count(v.counts.blocks_used) + " physical blocks (" +
                 format_count(v.counts.blocks_unshared) + " without sharing), " +
                 format_count(v.counts.slots_wasted) + " slots unused = " +
                 core::format_bytes(static_cast<double>(v.bytes_wasted)) + " at " +
                 core::format_bytes(static_cast<double>(v.bytes_per_token)) + " per token");
  info.push_back("utilisation " + pct(v.utilisation) + " paged vs " +
                 pct(v.contiguous_utilisation) + " reserving " + format_count(v.max_len) +
                 " tokens per sequence up front");
  if (v.prefix > 0)
    info.push_back("shared blocks are counted by reference; " +
                   std::to_string(v.counts.cow_copies) + " copy-on-write cop" +
                   (v.counts.cow_copies == 1 ? "y" : "ies") +
                   " when sequences first wrote into the shared partial block");
  for (size_t i = 0; i < v.lengths.size() && i < 7; ++i)
    f.legend.push_back({seq_color(t, static_cast<int>(i)), "sequence " + std::to_string(i)});
  if (v.prefix > 0) f.legend.push_back({t.muted, "shared (ref > 1)"});

  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  req.left = text_width("seq 00", t.small_size) + 8;
  const Layout l = plan_layout(f, t, req);
  const Rect& plot = l.plot;
  const int n_seq = static_cast<int>(p.tables.size());
  const int64_t n_phys = static_cast<int64_t>(p.ref.size());
  if (n_phys > kMaxDrawnBlocks) {
    f.marks.push_back(text_mark(t, plot.x, plot.y + t.font_size,
                                format_count(n_phys) + " blocks: too many to draw", t.font_size));
    decorate(f, t, l, info);
    return f;
  }
  // Top: the block tables, one row per sequence, logical block i at column i.
  size_t max_blocks = 1;
  for (const auto& tb : p.tables) max_blocks = std::max(max_blocks, tb.size());
  const float table_h = plot.h * 0.5f;
  const float row_h = std::min(28.0f, table_h / std::max(1, n_seq) - 4);
  const float bw = std::min(48.0f, plot.w / max_blocks);
  f.marks.push_back(text_mark(t, plot.x, plot.y + t.small_size,
                              "block tables (logical block -> physical id)", t.small_size));
  const float ty = plot.y + t.small_size * 2;
  for (int sq = 0; sq < n_seq; ++sq) {
    const float y = ty + sq * (row_h + 4);
    f.marks.push_back(text_mark(t, plot.x - 6, y + row_h / 2 + t.small_size * 0.35f,
                                "seq " + std::to_string(sq), t.small_size, Anchor::Right));
    const auto& tb = p.tables[sq];
    for (size_t i = 0; i < tb.size(); ++i) {
      const int phys = tb[i];
      const int in_block = std::min(v.block, p.lengths[sq] - static_cast<int>(i) * v.block);
      block_box(f, t, plot.x + i * bw + 1, y, bw - 2, row_h, block_color(t, p, phys), in_block,
                v.block, std::to_string(phys));
      f.hover_areas.push_back(HoverArea{plot.x + i * bw + 1, y, bw - 2, row_h, kPagedTableHoverId,
                                        sq, static_cast<int>(i)});
    }
  }
  // Bottom: the physical pool in id order, each block's fill and reference count.
  const float py = std::min(plot.y + table_h, ty + n_seq * (row_h + 4)) + t.small_size * 3;
  f.marks.push_back(
      text_mark(t, plot.x, py - 6, "physical blocks (fill; ref count when shared)", t.small_size));
  const int cols = std::max<int>(1, std::min<int64_t>(n_phys, static_cast<int64_t>(plot.w / 40)));
  const float pw = plot.w / cols;
  const float ph = std::min(30.0f, (plot.y + plot.h - py) / ((n_phys + cols - 1) / cols + 1));
  for (int64_t b = 0; b < n_phys; ++b) {
    const float x = plot.x + (b % cols) * pw + 1, y = py + (b / cols) * (ph + 4);
    const std::string label =
        std::to_string(b) + (p.ref[b] > 1 ? " x" + std::to_string(p.ref[b]) : "");
    block_box(f, t, x, y, pw - 2, ph, block_color(t, p, static_cast<int>(b)),
              p.ref[b] > 0 ? p.fill[b] : 0, v.block, label);
    f.hover_areas.push_back(HoverArea{x, y, pw - 2, ph, kPagedPoolHoverId, static_cast<int>(b), 0});
  }
  decorate(f, t, l, info);
  return f;
}

}  // namespace fig
