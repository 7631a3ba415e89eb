#include <algorithm>
#include <cstdio>

#include "core/figure/axes.h"
#include "core/figure/decorate.h"
#include "core/figure/figure_systems.h"
#include "core/views/kv_memory.h"
#include "core/views/mla.h"

namespace fig {
namespace {

std::string flops(double v) {
  const char* unit[] = {"", " k", " M", " G", " T"};
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%sFLOP", v, unit[u]);
  return buf;
}

struct Bar {
  std::string label;
  double value;
  Rgba color;
  std::string text;
  core::MlaItem item;  // what hovering the bar explains
};

void bars(Figure& f, const Theme& t, const Rect& r, const std::vector<Bar>& bs) {
  double hi = 1;
  float label_w = 0;
  for (const Bar& b : bs) {
    hi = std::max(hi, b.value);
    label_w = std::max(label_w, text_width(b.label, t.small_size) + 8);
  }
  const float bh = std::min(22.0f, r.h / (bs.size() * 1.5f));
  float text_w = 0;
  for (const Bar& b : bs) text_w = std::max(text_w, text_width(b.text, t.small_size) + 8);
  for (size_t i = 0; i < bs.size(); ++i) {
    const float y = r.y + i * bh * 1.5f;
    const float w = std::max(1.0f, static_cast<float>((r.w - label_w - text_w) * bs[i].value / hi));
    f.marks.push_back(
        text_mark(t, r.x + label_w - 6, y + bh * 0.7f, bs[i].label, t.small_size, Anchor::Right));
    f.marks.push_back(Rect{r.x + label_w, y, w, bh, bs[i].color, Rgba{0, 0, 0, 0}, 0});
    // The whole row answers hover, so a short bar is as easy to point at as a long one.
    f.hover_areas.push_back(
        HoverArea{r.x, y, r.w, bh, kMlaHoverId, static_cast<int>(bs[i].item), 0});
    f.marks.push_back(text_mark(t, r.x + label_w + w + 4, y + bh * 0.7f, bs[i].text, t.small_size));
  }
}

// A labelled box of the flow diagram; `cached` boxes are filled with the highlight colour.
void node(Figure& f, const Theme& t, float x, float y, float w, float h, const std::string& s,
          bool cached, core::MlaItem item) {
  Rgba fill = cached ? t.highlight : t.masked;
  f.marks.push_back(Rect{x, y, w, h, fill, t.grid, 1});
  f.hover_areas.push_back(HoverArea{x, y, w, h, kMlaHoverId, static_cast<int>(item), 0});
  Text tx = text_mark(t, x + w / 2, y + h / 2 + t.small_size * 0.35f, s,
                      fit_text_size(s, t.small_size, w - 4), Anchor::Center);
  if (cached) tx.color = t.background;
  f.marks.push_back(tx);
}

void arrow(Figure& f, const Theme& t, float x0, float y0, float x1, float y1,
           const std::string& s) {
  Polyline p;
  p.pts = {{x0, y0}, {x1, y1}};
  p.color = t.muted;
  p.width = t.line_width;
  f.marks.push_back(p);
  Markers head;
  head.pts = {{x1, y1}};
  head.color = t.muted;
  head.radius = 3;
  f.marks.push_back(head);
  if (!s.empty())
    f.marks.push_back(
        text_mark(t, (x0 + x1) / 2, (y0 + y1) / 2 - 4, s, t.small_size, Anchor::Center));
}

}  // namespace

Figure figure_mla(const core::MlaCosts& c, const core::Scene& s, const Theme& t, FigureSize size) {
  const FigureSize fs = resolve_size(size, kFigureWidth, kFigureHeight);
  Figure f = make_figure(t, fs.width, fs.height);
  f.title = s.title.empty() ? kMlaTitle : s.title;
  f.caption = s.caption;
  auto b = [](int64_t v) { return core::format_bytes(static_cast<double>(v)); };
  std::vector<std::string> info;
  info.push_back(s.preset + ": " + std::to_string(c.n_layers) + " layers, " +
                 std::to_string(c.n_heads) + " heads of d_h = " + std::to_string(c.head_dim) +
                 "; latent d_c = " + std::to_string(c.latent) + ", RoPE key d_R = " +
                 std::to_string(c.rope_dim) + ", " + core::dtype_name(s.dtype));
  info.push_back(
      "cache per token: MLA " + format_count(c.bytes_per_token_mla) + " B = (" +
      std::to_string(c.latent) + " + " + std::to_string(c.rope_dim) + ") x " +
      std::to_string(c.n_layers) + " x " + std::to_string(c.elem_bytes) + " B; MHA " +
      format_count(c.bytes_per_token_mha) + " B (" +
      std::to_string(c.bytes_per_token_mha / std::max<int64_t>(1, c.bytes_per_token_mla)) +
      "x more)");
  info.push_back("decode, one layer, " + format_count(c.context) + " cached tokens: " +
                 flops(static_cast<double>(c.flops_plain)) + " and " + b(c.bytes_plain) +
                 " up-projecting K, V; " + flops(static_cast<double>(c.flops_absorbed)) + " and " +
                 b(c.bytes_absorbed) + " with W_UK, W_UV absorbed");
  LayoutRequest req;
  req.info_lines = static_cast<int>(info.size());
  const Layout l = plan_layout(f, t, req);
  const Rect& plot = l.plot;
  const float half = plot.h / 2 - t.font_size;

  // Top left: bytes per token of each attention kind.
  const float lw = plot.w * 0.5f;
  f.marks.push_back(
      text_mark(t, plot.x, plot.y + t.small_size, "KV cache per token, all layers", t.small_size));
  bars(f, t, Rect{plot.x, plot.y + t.small_size * 2, lw - 20, half},
       {{"MHA (" + std::to_string(c.n_heads) + " KV heads)",
         static_cast<double>(c.bytes_per_token_mha), palette_color(t, 5), b(c.bytes_per_token_mha),
         core::MlaItem::CacheMha},
        {"GQA (" + std::to_string(c.n_kv_heads) + ")", static_cast<double>(c.bytes_per_token_gqa),
         palette_color(t, 0), b(c.bytes_per_token_gqa), core::MlaItem::CacheGqa},
        {"MQA (1)", static_cast<double>(c.bytes_per_token_mqa), palette_color(t, 1),
         b(c.bytes_per_token_mqa), core::MlaItem::CacheMqa},
        {"MLA (d_c + d_R)", static_cast<double>(c.bytes_per_token_mla), palette_color(t, 2),
         b(c.bytes_per_token_mla), core::MlaItem::CacheMla}});

  // Top right: the down- and up-projection flow, cached boxes highlighted.
  const float fx = plot.x + lw + 10, fw = plot.w - lw - 10;
  const float bw = fw / 4.2f, bh = 30, y0 = plot.y + t.small_size * 2;
  f.marks.push_back(text_mark(t, fx, plot.y + t.small_size,
                              "per token: cached (filled) and recomputed", t.small_size));
  node(f, t, fx, y0 + 40, bw * 0.8f, bh, "h_t", false, core::MlaItem::Hidden);
  node(f, t, fx + bw * 1.4f, y0, bw, bh, "c_KV (" + std::to_string(c.latent) + ")", true,
       core::MlaItem::Latent);
  node(f, t, fx + bw * 1.4f, y0 + 80, bw, bh, "k_R (" + std::to_string(c.rope_dim) + ")", true,
       core::MlaItem::RopeKey);
  node(f, t, fx + bw * 3.0f, y0 - 20, bw * 1.15f, bh, "k_C: n_h x d_h", false, core::MlaItem::Keys);
  node(f, t, fx + bw * 3.0f, y0 + 30, bw * 1.15f, bh, "v_C: n_h x d_h", false,
       core::MlaItem::Values);
  arrow(f, t, fx + bw * 0.8f, y0 + 40 + bh / 2, fx + bw * 1.4f, y0 + bh / 2, "W_DKV");
  arrow(f, t, fx + bw * 0.8f, y0 + 40 + bh / 2, fx + bw * 1.4f, y0 + 80 + bh / 2, "W_KR");
  arrow(f, t, fx + bw * 2.4f, y0 + bh / 2, fx + bw * 3.0f, y0 - 20 + bh / 2, "W_UK");
  arrow(f, t, fx + bw * 2.4f, y0 + bh / 2, fx + bw * 3.0f, y0 + 30 + bh / 2, "W_UV");
  float ty = y0 + 140;
  for (const std::string& line :
       wrap_words("absorbed: q^T k_C = (W_UK^T q)^T c_KV, so decode scores the latents "
                  "directly and W_UV folds into the output projection",
                  t.small_size, fw)) {
    f.marks.push_back(text_mark(t, fx, ty, line, t.small_size));
    ty += t.small_size * 1.3f;
  }

  // Bottom: decode cost with and without absorption.
  const float by = plot.y + half + t.font_size * 3;
  f.marks.push_back(text_mark(
      t, plot.x, by - 6,
      "one decode step, one layer, " + format_count(c.context) + " cached tokens", t.small_size));
  const float bh2 = (plot.y + plot.h - by) / 2;  // FLOPs and bytes, each on its own scale
  bars(f, t, Rect{plot.x, by, plot.w, bh2},
       {{"FLOPs, up-project K, V", static_cast<double>(c.flops_plain), palette_color(t, 5),
         flops(static_cast<double>(c.flops_plain)), core::MlaItem::FlopsPlain},
        {"FLOPs, absorbed", static_cast<double>(c.flops_absorbed), palette_color(t, 2),
         flops(static_cast<double>(c.flops_absorbed)), core::MlaItem::FlopsAbsorbed}});
  bars(f, t, Rect{plot.x, by + bh2, plot.w, bh2},
       {{"bytes, up-project K, V", static_cast<double>(c.bytes_plain), palette_color(t, 5),
         b(c.bytes_plain), core::MlaItem::BytesPlain},
        {"bytes, absorbed", static_cast<double>(c.bytes_absorbed), palette_color(t, 2),
         b(c.bytes_absorbed), core::MlaItem::BytesAbsorbed}});
  decorate(f, t, l, info);
  return f;
}

}  // namespace fig
