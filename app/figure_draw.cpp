#include "app/figure_draw.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <variant>

namespace app {
namespace {

struct Xf {
  ImVec2 o;
  float s;
  ImVec2 operator()(float x, float y) const { return ImVec2(o.x + x * s, o.y + y * s); }
};

void draw_rect(ImDrawList* dl, const Xf& xf, const fig::Rect& r) {
  const ImVec2 a = xf(r.x, r.y), b = xf(r.x + r.w, r.y + r.h);
  if (r.fill.a > 0) dl->AddRectFilled(a, b, to_imcolor(r.fill));
  if (r.stroke.a > 0 && r.stroke_width > 0)
    dl->AddRect(a, b, to_imcolor(r.stroke), 0.0f, 0, std::max(1.0f, r.stroke_width * xf.s));
}

void draw_polyline(ImDrawList* dl, const Xf& xf, const fig::Polyline& p) {
  if (p.pts.size() < 2) return;
  const ImU32 col = to_imcolor(p.color);
  const float w = std::max(1.0f, p.width * xf.s);
  if (!p.dashed) {
    std::vector<ImVec2> pts;
    pts.reserve(p.pts.size());
    for (const fig::Point& q : p.pts) pts.push_back(xf(q.x, q.y));
    dl->AddPolyline(pts.data(), static_cast<int>(pts.size()), col,
                    p.closed ? ImDrawFlags_Closed : ImDrawFlags_None, w);
    return;
  }
  // Dashes of 6 and gaps of 4 screen pixels, continuing across vertices.
  const float dash = 6.0f, gap = 4.0f;
  float phase = 0;
  const size_t n = p.pts.size() + (p.closed ? 1 : 0);
  for (size_t i = 1; i < n; ++i) {
    const ImVec2 a = xf(p.pts[i - 1].x, p.pts[i - 1].y);
    const fig::Point& qb = p.pts[i % p.pts.size()];
    const ImVec2 b = xf(qb.x, qb.y);
    const float dx = b.x - a.x, dy = b.y - a.y, len = std::sqrt(dx * dx + dy * dy);
    float t = 0;
    while (t < len) {
      const float cycle = std::fmod(phase, dash + gap);
      const float seg =
          cycle < dash ? std::min(dash - cycle, len - t) : std::min(dash + gap - cycle, len - t);
      if (cycle < dash && len > 0) {
        dl->AddLine(ImVec2(a.x + dx * t / len, a.y + dy * t / len),
                    ImVec2(a.x + dx * (t + seg) / len, a.y + dy * (t + seg) / len), col, w);
      }
      t += seg;
      phase += seg;
    }
  }
}

void draw_text(ImDrawList* dl, const Xf& xf, const fig::Text& t, const UiFonts& fonts) {
  if (t.text.empty()) return;
  const float px = t.size * xf.s;
  if (px < 4.0f) return;  // unreadable; skip rather than smear
  ImFont* font = font_for_size(fonts, px);
  const char* b = t.text.c_str();
  const char* e = b + t.text.size();
  const float width = font->CalcTextSizeA(px, FLT_MAX, 0.0f, b, e).x;
  const ImVec2 anchor = xf(t.x, t.y);
  float dx = 0;
  if (t.anchor == fig::Anchor::Center) dx = -width * 0.5f;
  if (t.anchor == fig::Anchor::Right) dx = -width;
  const float ascent = font->Ascent * px / font->FontSize;
  const ImVec2 pos(anchor.x + dx, anchor.y - ascent);
  const ImU32 col = to_imcolor(t.color);
  if (t.angle_deg == 0) {
    dl->AddText(font, px, pos, col, b, e);
    if (t.bold) dl->AddText(font, px, ImVec2(pos.x + std::max(0.5f, px / 24.0f), pos.y), col, b, e);
    return;
  }
  // Rotated text: lay it out unrotated with no clipping, then turn its vertices about the
  // anchor (counter-clockwise on screen, as in the Figure).
  const int first = dl->VtxBuffer.Size;
  dl->PushClipRectFullScreen();
  dl->AddText(font, px, pos, col, b, e);
  dl->PopClipRect();
  const float a = t.angle_deg * 3.14159265f / 180.0f, c = std::cos(a), s = std::sin(a);
  for (int i = first; i < dl->VtxBuffer.Size; ++i) {
    ImVec2& v = dl->VtxBuffer[i].pos;
    const float rx = v.x - anchor.x, ry = v.y - anchor.y;
    v = ImVec2(anchor.x + rx * c + ry * s, anchor.y - rx * s + ry * c);
  }
}

}  // namespace

ImU32 to_imcolor(const fig::Rgba& c) {
  auto ch = [](float v) {
    return static_cast<int>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
  };
  return IM_COL32(ch(c.r), ch(c.g), ch(c.b), ch(c.a));
}

FigureCanvas draw_figure(const fig::Figure& f, ImVec2 size, const FigureDrawContext& ctx) {
  FigureCanvas out;
  size.x = std::max(size.x, 16.0f);
  size.y = std::max(size.y, 16.0f);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton("##figure", size);
  const bool hovered = ImGui::IsItemHovered();
  const float s = std::min(size.x / std::max(f.width, 1.0f), size.y / std::max(f.height, 1.0f));
  const ImVec2 o(std::floor(p0.x + (size.x - f.width * s) * 0.5f),
                 std::floor(p0.y + (size.y - f.height * s) * 0.5f));
  const Xf xf{o, s};
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->PushClipRect(p0, ImVec2(p0.x + size.x, p0.y + size.y), true);
  // The panel already has this colour behind it in the app themes; skipping the fill saves a
  // full-panel pass on software GL.
  const ImU32 bg = to_imcolor(f.background);
  if (bg != ImGui::GetColorU32(ImGuiCol_WindowBg))
    dl->AddRectFilled(xf(0, 0), xf(f.width, f.height), bg);
  int index = 0;
  for (const fig::Mark& m : f.marks) {
    std::visit(
        [&](const auto& mk) {
          using T = std::decay_t<decltype(mk)>;
          if constexpr (std::is_same_v<T, fig::Rect>) {
            draw_rect(dl, xf, mk);
          } else if constexpr (std::is_same_v<T, fig::Polyline>) {
            draw_polyline(dl, xf, mk);
          } else if constexpr (std::is_same_v<T, fig::Markers>) {
            const float r = std::max(1.5f, mk.radius * s);
            for (const fig::Point& q : mk.pts)
              dl->AddCircleFilled(xf(q.x, q.y), r, to_imcolor(mk.color), 12);
          } else if constexpr (std::is_same_v<T, fig::Text>) {
            draw_text(dl, xf, mk, ctx.fonts);
          } else {
            const ImVec2 a = xf(mk.x, mk.y), b = xf(mk.x + mk.w, mk.y + mk.h);
            draw_heatmap(ctx.heatmaps, dl, mk, ctx.key + "#" + std::to_string(index), ctx.version,
                         a.x, a.y, b.x, b.y);
          }
        },
        m);
    ++index;
  }
  dl->PopClipRect();
  out.origin = o;
  out.scale = s;
  out.hovered = hovered;
  if (hovered && s > 0) {
    const ImVec2 mp = ImGui::GetIO().MousePos;
    out.mouse = {(mp.x - o.x) / s, (mp.y - o.y) / s};
  }
  return out;
}

}  // namespace app
