#include <algorithm>
#include <cmath>

#include "core/attention/window_text.h"
#include "core/figure/axes.h"
#include "core/figure/decorate.h"
#include "core/figure/live_views.h"
#include "core/figure/view_registry.h"

namespace fig {

Figure figure_live_ring(const core::LiveRing& r, const core::Scene& s, const Theme& t) {
  Figure f = make_figure(t, kLiveFigureWidth, kLiveFigureHeight);
  f.title = s.title.empty() ? view_title("live_ring") : s.title;
  f.caption = s.caption;
  std::vector<std::string> info = {
      "step " + std::to_string(r.step) + " of " + std::to_string(r.n_steps - 1) + ": N=" +
          std::to_string(r.n_tokens) + " tokens (prompt " + std::to_string(r.prompt_tokens) +
          "), W=" + std::to_string(r.window) + " slots (" + attn::convention_phrase(r.convention) +
          "), layer " + std::to_string(r.layer) + "; position p lives in slot p mod W",
      r.verdict,
      "rolling cache: " +
          (r.ring_text.empty() ? std::string("(nothing generated yet)") : r.ring_text),
      "full cache:    " +
          (r.full_text.empty() ? std::string("(nothing generated yet)") : r.full_text)};
  f.legend.push_back(
      {palette_color(t, 1), "|K| (mean over KV heads; bar: share of the largest)", false});
  f.legend.push_back({palette_color(t, 2), "|V|", false});
  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  const Layout l = plan_layout(f, t, req);
  const Rect& P = l.plot;

  const int W = std::max(1, static_cast<int>(r.slots.size()));
  const int cols = std::min(W, 12);
  const int rows = (W + cols - 1) / cols;
  const float evict_h = t.font_size * 5;
  const float gap = 8;
  const float bw = (P.w - gap * (cols - 1)) / cols;
  const float bh = std::min(bw * 1.1f, (P.h - evict_h - gap * (rows - 1)) / rows);
  const bool text_fits = bw > t.small_size * 4 && bh > t.small_size * 6;
  for (int i = 0; i < W; ++i) {
    const core::LiveRingSlot& sl = r.slots[i];
    const float x = P.x + (i % cols) * (bw + gap), y = P.y + (i / cols) * (bh + gap);
    Rect box{x,
             y,
             bw,
             bh,
             t.background,
             sl.just_written ? t.highlight : t.grid,
             sl.just_written ? 3.0f : 1.0f};
    if (sl.pos < 0) box.fill = t.masked;
    f.marks.push_back(box);
    if (!text_fits) continue;
    Text slot =
        text_mark(t, x + 4, y + t.small_size + 2, "slot " + std::to_string(i), t.small_size);
    slot.color = t.muted;
    f.marks.push_back(slot);
    if (sl.pos < 0) {
      Text e = text_mark(t, x + bw / 2, y + bh / 2, "empty", t.small_size, Anchor::Center);
      e.color = t.muted;
      f.marks.push_back(e);
      continue;
    }
    Text tok =
        text_mark(t, x + bw / 2, y + bh * 0.42f, sl.label, t.font_size * 1.15f, Anchor::Center);
    tok.bold = true;
    f.marks.push_back(tok);
    f.marks.push_back(text_mark(t, x + bw / 2, y + bh * 0.42f + t.font_size * 1.5f,
                                "pos " + std::to_string(sl.pos), t.small_size, Anchor::Center));
    // K and V norm bars along the bottom of the box.
    const float bar_max = bw - 8, by = y + bh - t.small_size * 2.4f;
    const float kw = r.max_k > 0 ? bar_max * sl.k_norm / r.max_k : 0;
    const float vw = r.max_v > 0 ? bar_max * sl.v_norm / r.max_v : 0;
    f.marks.push_back(Rect{x + 4, by, kw, t.small_size * 0.8f, palette_color(t, 1), {}, 0});
    f.marks.push_back(
        Rect{x + 4, by + t.small_size * 1.0f, vw, t.small_size * 0.8f, palette_color(t, 2), {}, 0});
    char buf[48];
    std::snprintf(buf, sizeof buf, "|K| %.1f  |V| %.1f", sl.k_norm, sl.v_norm);
    Text nt = text_mark(t, x + bw / 2, y + bh - 3, buf, t.small_size * 0.85f, Anchor::Center);
    nt.color = t.muted;
    f.marks.push_back(nt);
  }
  const float ey = P.y + rows * (bh + gap) + t.font_size * 1.5f;
  std::string ev;
  if (r.evicted_pos >= 0)
    ev = "just evicted: position " + std::to_string(r.evicted_pos) + " '" + r.evicted_label +
         "' (overwritten in slot " + std::to_string(r.written_slot) + ")";
  else if (r.written_slot >= 0)
    ev = "last write: slot " + std::to_string(r.written_slot) + " (was empty, nothing evicted)";
  else
    ev = "prompt prefilled; press Step or Play";
  if (r.written_slot >= 0) ev += "   (thick outline: the slot written last)";
  Text et = text_mark(t, P.x, ey, ev, t.font_size);
  if (r.evicted_pos >= 0) et.color = palette_color(t, 5);
  f.marks.push_back(et);
  decorate(f, t, l, info);
  return f;
}

}  // namespace fig
