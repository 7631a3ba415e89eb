#include <algorithm>
#include <cstdio>

#include "core/figure/axes.h"
#include "core/figure/decorate.h"
#include "core/figure/view_registry.h"
#include "core/figure/views.h"
#include "core/views/head_groups.h"
#include "core/views/kv_memory.h"

namespace fig {

Figure figure_groups(const core::HeadGroups& g, const core::Scene& s, const Theme& t,
                     FigureSize size) {
  Figure f = make_figure(t, resolve_size(size, kFigureWidth, kFigureHeight * 0.75f).width,
                         resolve_size(size, kFigureWidth, kFigureHeight * 0.75f).height);
  f.title = s.title.empty() ? view_title("groups") : s.title;
  f.caption = s.caption;
  std::vector<std::string> info;
  info.push_back(g.label + ": " + std::to_string(g.n_heads) + " query heads share " +
                 std::to_string(g.n_kv_heads) + " K/V head" + (g.n_kv_heads == 1 ? "" : "s") +
                 " (groups of " + std::to_string(g.group_size) + ")");
  char buf[200];
  std::snprintf(buf, sizeof buf, "KV cache: %s per token (%s, %d layers), MHA would need %s (%gx)",
                core::format_bytes(static_cast<double>(g.kv_bytes_per_token)).c_str(),
                core::dtype_name(s.dtype), s.n_layers,
                core::format_bytes(static_cast<double>(g.kv_bytes_per_token_mha)).c_str(),
                static_cast<double>(g.kv_bytes_per_token_mha) / g.kv_bytes_per_token);
  info.push_back(buf);
  info.push_back("K/V projections: " + format_count(g.kv_proj_params_per_layer) +
                 " parameters per layer (2 x d_model " + std::to_string(s.d_model) + " x " +
                 std::to_string(g.n_kv_heads) + " x head_dim " + std::to_string(s.head_dim) +
                 "), " + format_count(g.kv_proj_params_total) + " in all");
  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  req.left = t.small_size * 6;
  const Layout l = plan_layout(f, t, req);
  const Rect& plot = l.plot;

  const float box_h = std::min(40.0f, plot.h / 5);
  const float qy = plot.y + box_h * 0.5f, ky = plot.y + plot.h - box_h * 1.5f;
  const float qw = plot.w / g.n_heads, kw = plot.w / g.n_kv_heads;
  f.marks.push_back(text_mark(t, plot.x - 8, qy + box_h / 2 + t.small_size * 0.35f, "query heads",
                              t.small_size, Anchor::Right));
  f.marks.push_back(text_mark(t, plot.x - 8, ky + box_h / 2 + t.small_size * 0.35f, "K/V heads",
                              t.small_size, Anchor::Right));
  // Lines first, so the boxes sit on top of them.
  for (int h = 0; h < g.n_heads; ++h) {
    const int kv = g.kv_head_of[h];
    Polyline link;
    link.pts = {{plot.x + (h + 0.5f) * qw, qy + box_h}, {plot.x + (kv + 0.5f) * kw, ky}};
    link.color = palette_color(t, kv);
    link.width = std::max(0.5f, std::min(t.line_width, qw / 4));
    f.marks.push_back(link);
  }
  const float gap_q = qw > 6 ? 1.5f : 0, gap_k = kw > 6 ? 3 : 0;
  for (int h = 0; h < g.n_heads; ++h) {
    f.marks.push_back(Rect{plot.x + h * qw + gap_q, qy, qw - 2 * gap_q, box_h,
                           palette_color(t, g.kv_head_of[h]), t.background, 0.5f});
  }
  // Every `every`-th query head gets a label above its box, spaced by the widest label so
  // q0..q9 and q10.. read alike.
  auto q_label = [](int h) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "q%d", h);
    return std::string(buf);
  };
  const float q_label_w = text_width(q_label(g.n_heads - 1), t.small_size) + 6;
  int every = 1;
  while (every * qw < q_label_w && every < g.n_heads) every *= 2;
  for (int h = 0; h < g.n_heads; h += every)
    f.marks.push_back(
        text_mark(t, plot.x + (h + 0.5f) * qw, qy - 5, q_label(h), t.small_size, Anchor::Center));
  // K/V labels: "kv3 (8)" when every one fits, else "kv3" on every `kv_every`-th head, spaced
  // by the widest label so kv0..kv9 and kv10.. read alike.
  auto kv_label = [&](int k, bool with_group) {
    char buf[40];  // snprintf: GCC 12 reports a false -Wrestrict on operator+ chains here
    if (with_group)
      std::snprintf(buf, sizeof buf, "kv%d (%d)", k, g.group_sizes[k]);
    else
      std::snprintf(buf, sizeof buf, "kv%d", k);
    return std::string(buf);
  };
  const int last_kv = g.n_kv_heads - 1;
  const bool with_group = kw >= text_width(kv_label(last_kv, true), t.small_size) + 6;
  const float kv_label_w = text_width(kv_label(last_kv, with_group), t.small_size) + 6;
  int kv_every = 1;
  while (kv_every * kw < kv_label_w && kv_every < g.n_kv_heads) kv_every *= 2;
  for (int k = 0; k < g.n_kv_heads; ++k) {
    f.marks.push_back(Rect{plot.x + k * kw + gap_k, ky, kw - 2 * gap_k, box_h, palette_color(t, k),
                           t.background, 0.5f});
    if (k % kv_every == 0)
      f.marks.push_back(text_mark(t, plot.x + (k + 0.5f) * kw, ky + box_h + t.small_size * 1.3f,
                                  kv_label(k, with_group), t.small_size, Anchor::Center));
  }

  decorate(f, t, l, info);
  return f;
}

}  // namespace fig
