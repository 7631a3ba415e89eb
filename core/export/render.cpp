#include "core/export/render.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <variant>

#include "core/figure/colormap.h"
#include "core/figure/decorate.h"

namespace core::exp::detail {
namespace {

constexpr double kPi = 3.14159265358979323846;

void set_rgba(cairo_t* cr, const fig::Rgba& c) {
  cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a);
}

uint8_t to_byte(float v) {
  return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
}

void draw_rect(cairo_t* cr, const fig::Rect& r) {
  if (r.fill.a > 0) {
    cairo_rectangle(cr, r.x, r.y, r.w, r.h);
    set_rgba(cr, r.fill);
    cairo_fill(cr);
  }
  if (r.stroke.a > 0 && r.stroke_width > 0) {
    cairo_rectangle(cr, r.x, r.y, r.w, r.h);
    set_rgba(cr, r.stroke);
    cairo_set_line_width(cr, r.stroke_width);
    cairo_stroke(cr);
  }
}

void draw_polyline(cairo_t* cr, const fig::Polyline& p) {
  if (p.pts.size() < 2 || p.color.a <= 0) return;
  cairo_new_path(cr);
  cairo_move_to(cr, p.pts[0].x, p.pts[0].y);
  for (size_t i = 1; i < p.pts.size(); ++i) cairo_line_to(cr, p.pts[i].x, p.pts[i].y);
  if (p.closed) cairo_close_path(cr);
  set_rgba(cr, p.color);
  cairo_set_line_width(cr, p.width);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  if (p.dashed) {
    const double on = std::max(3.0, 2.0 * p.width), off = std::max(2.5, 1.5 * p.width);
    const double dash[2] = {on, off};
    cairo_set_dash(cr, dash, 2, 0);
  }
  cairo_stroke(cr);
  cairo_set_dash(cr, nullptr, 0, 0);
}

void draw_markers(cairo_t* cr, const fig::Markers& m) {
  if (m.color.a <= 0 || m.radius <= 0) return;
  set_rgba(cr, m.color);
  for (const fig::Point& p : m.pts) {
    cairo_new_sub_path(cr);
    cairo_arc(cr, p.x, p.y, m.radius, 0, 2 * kPi);
  }
  cairo_fill(cr);
}

void draw_text(cairo_t* cr, const fig::Text& t) {
  if (t.text.empty() || t.color.a <= 0) return;
  select_font(cr, t.size, t.bold);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, t.text.c_str(), &ext);
  double dx = 0;
  if (t.anchor == fig::Anchor::Center) dx = -ext.x_advance / 2;
  if (t.anchor == fig::Anchor::Right) dx = -ext.x_advance;
  cairo_save(cr);
  cairo_translate(cr, t.x, t.y);
  if (t.angle_deg != 0) cairo_rotate(cr, -t.angle_deg * kPi / 180.0);
  cairo_move_to(cr, dx, 0);
  set_rgba(cr, t.color);
  cairo_show_text(cr, t.text.c_str());
  cairo_new_path(cr);
  cairo_restore(cr);
}

// One image pixel per cell, scaled up with the NEAREST filter: every cell keeps a hard edge
// in all three formats, and a 512x512 grid is one compressed image instead of 262k rects.
void draw_heatmap(cairo_t* cr, const fig::Heatmap& h) {
  if (h.rows <= 0 || h.cols <= 0 || h.w <= 0 || h.h <= 0) return;
  if (h.values.size() != static_cast<size_t>(h.rows) * static_cast<size_t>(h.cols)) return;
  cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, h.cols, h.rows);
  if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(img);
    return;
  }
  cairo_surface_flush(img);
  unsigned char* data = cairo_image_surface_get_data(img);
  const int stride = cairo_image_surface_get_stride(img);
  for (int r = 0; r < h.rows; ++r) {
    auto* row = reinterpret_cast<uint32_t*>(data + static_cast<size_t>(r) * stride);
    for (int c = 0; c < h.cols; ++c) {
      const fig::Rgba col = fig::heatmap_color(h, h.values[static_cast<size_t>(r) * h.cols + c]);
      const float a = std::clamp(col.a, 0.0f, 1.0f);  // ARGB32 is premultiplied
      row[c] = (uint32_t{to_byte(a)} << 24) | (uint32_t{to_byte(col.r * a)} << 16) |
               (uint32_t{to_byte(col.g * a)} << 8) | uint32_t{to_byte(col.b * a)};
    }
  }
  cairo_surface_mark_dirty(img);
  cairo_save(cr);
  cairo_translate(cr, h.x, h.y);
  cairo_scale(cr, h.w / h.cols, h.h / h.rows);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, 0, 0, h.cols, h.rows);
  cairo_fill(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
}

float caption_size(const fig::Figure& f) {
  // Without a caption mark to copy, use the body size of the figure's tick labels if any.
  for (const fig::Mark& m : f.marks)
    if (const auto* t = std::get_if<fig::Text>(&m); t && !t->bold && t->angle_deg == 0)
      return std::max(t->size, 12.0f);
  return 14;
}

bool has_caption_marks(const fig::Figure& f) {
  for (const fig::Mark& m : f.marks)
    if (const auto* t = std::get_if<fig::Text>(&m); t && t->caption) return true;
  return false;
}

}  // namespace

void set_font_options(cairo_t* cr) {
  cairo_font_options_t* fo = cairo_font_options_create();
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
  cairo_set_font_options(cr, fo);
  cairo_font_options_destroy(fo);
}

void select_font(cairo_t* cr, float size, bool bold) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

std::vector<std::string> wrap_text(cairo_t* cr, const std::string& text, float size,
                                   float max_width) {
  select_font(cr, size, false);
  return fig::wrap_words(text, max_width, [cr](const std::string& s) {
    cairo_text_extents_t e;
    cairo_text_extents(cr, s.c_str(), &e);
    return static_cast<float>(e.x_advance);
  });
}

float caption_block_height(const fig::Figure& f, cairo_t* cr, float width) {
  if (f.caption.empty() || has_caption_marks(f)) return 0;
  const float size = caption_size(f);
  const auto lines = wrap_text(cr, f.caption, size, width - 2 * size);
  return static_cast<float>(lines.size()) * size * 1.4f + size;
}

void draw_figure(cairo_t* cr, const fig::Figure& f, bool with_caption) {
  set_font_options(cr);
  set_rgba(cr, f.background);
  cairo_paint(cr);
  for (const fig::Mark& m : f.marks) {
    if (const auto* r = std::get_if<fig::Rect>(&m))
      draw_rect(cr, *r);
    else if (const auto* p = std::get_if<fig::Polyline>(&m))
      draw_polyline(cr, *p);
    else if (const auto* k = std::get_if<fig::Markers>(&m))
      draw_markers(cr, *k);
    else if (const auto* t = std::get_if<fig::Text>(&m)) {
      if (with_caption || !t->caption) draw_text(cr, *t);
    } else if (const auto* h = std::get_if<fig::Heatmap>(&m))
      draw_heatmap(cr, *h);
  }
  if (with_caption && !f.caption.empty() && !has_caption_marks(f)) {
    // A figure laid out without its caption: wrap it into the block below the figure.
    const float size = caption_size(f);
    const auto lines = wrap_text(cr, f.caption, size, f.width - 2 * size);
    float y = f.height + size * 1.2f;
    for (const std::string& line : lines) {
      fig::Text t;
      t.x = size;
      t.y = y;
      t.text = line;
      t.size = size;
      t.color = f.foreground;
      draw_text(cr, t);
      y += size * 1.4f;
    }
  }
}

}  // namespace core::exp::detail
