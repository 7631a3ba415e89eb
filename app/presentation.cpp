#include "app/presentation.h"

#include <GLFW/glfw3.h>
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "app/app_state.h"
#include "app/figure_draw.h"
#include "core/figure/view_registry.h"
#include "core/io/assets.h"
#include "core/scene/scene_json.h"

namespace app {
namespace {

bool pressed(int glfw_key) {
  return ImGui::IsKeyPressed(glfw_key, false);
}

// The slide's scene, or the app's scene when there is no lecture.
core::Scene slide_scene(const AppState& s, std::string& title, std::string& caption) {
  const PresentationState& p = s.present;
  if (p.lecture && !p.lecture->slides.empty()) {
    const core::LectureSlide& sl = p.lecture->slides[std::clamp(p.slide, 0, slide_count(s) - 1)];
    title = sl.title;
    caption = sl.caption;
    return sl.scene;
  }
  title = s.editor.scene.title.empty() ? "attnlab" : s.editor.scene.title;
  caption = s.editor.scene.caption;
  return s.editor.scene;
}

// Wraps `text` in `font` at its own size, centred in [x0, x0 + w], starting at y; returns the
// height used.
float centred_wrapped(ImDrawList* dl, ImFont* font, const std::string& text, float x0, float w,
                      float y, ImU32 col) {
  const float px = font->FontSize;
  const char* b = text.c_str();
  const char* end = b + text.size();
  float h = 0;
  while (b < end) {
    const char* line_end = font->CalcWordWrapPositionA(1.0f, b, end, w);
    if (line_end == b) line_end = b + 1;
    const char* nl = std::find(b, line_end, '\n');
    if (nl != line_end) line_end = nl;
    const float lw = font->CalcTextSizeA(px, FLT_MAX, 0, b, line_end).x;
    dl->AddText(font, px, ImVec2(std::floor(x0 + (w - lw) * 0.5f), y + h), col, b, line_end);
    h += px * 1.2f;
    b = line_end;
    while (b < end && (*b == ' ' || *b == '\n')) ++b;
  }
  return h;
}

// The slides theme with the title a size up: it is read from the back of a lecture hall.
fig::Theme presentation_theme() {
  fig::Theme t = fig::theme_slides();
  t.title_size *= 1.3f;
  return t;
}

constexpr float kSlideUnits = 1280;  // layout width of a slide, as the exported deck

}  // namespace

std::string default_lecture_path() {
  return core::asset_path("lectures/attention-efficiency.json");
}

void ensure_lecture(AppState& s) {
  PresentationState& p = s.present;
  if (p.lecture || !p.error.empty()) return;
  if (p.lecture_path.empty()) p.lecture_path = default_lecture_path();
  try {
    p.lecture = core::load_lecture(p.lecture_path);
    if (p.lecture->slides.empty()) p.error = p.lecture_path + ": the lecture has no scenes";
  } catch (const std::exception& e) {
    p.error = e.what();
    p.lecture.reset();
  }
  p.cache_slide = -1;
}

void enter_presentation(AppState& s) {
  ensure_lecture(s);
  s.present.active = true;
  s.present.slide = std::clamp(s.present.slide, 0, slide_count(s) - 1);
}

void leave_presentation(AppState& s) {
  s.present.active = false;
}

int slide_count(const AppState& s) {
  const auto& l = s.present.lecture;
  return (l && !l->slides.empty()) ? static_cast<int>(l->slides.size()) : 1;
}

void draw_presentation(AppState& s) {
  PresentationState& p = s.present;
  const int n = slide_count(s);
  if (pressed(GLFW_KEY_RIGHT) || pressed(GLFW_KEY_PAGE_DOWN) || pressed(GLFW_KEY_SPACE))
    p.slide = std::min(p.slide + 1, n - 1);
  if (pressed(GLFW_KEY_LEFT) || pressed(GLFW_KEY_PAGE_UP) || pressed(GLFW_KEY_BACKSPACE))
    p.slide = std::max(p.slide - 1, 0);
  if (pressed(GLFW_KEY_HOME)) p.slide = 0;
  if (pressed(GLFW_KEY_END)) p.slide = n - 1;
  if (pressed(GLFW_KEY_ESCAPE)) {
    leave_presentation(s);
    return;
  }

  std::string title, caption;
  core::Scene scene = slide_scene(s, title, caption);
  const fig::Theme theme = presentation_theme();

  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->Pos);
  ImGui::SetNextWindowSize(vp->Size);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
  ImGui::PushStyleVar(ImGuiStyleVar_WindowBorderSize, 0);
  ImGui::PushStyleColor(ImGuiCol_WindowBg,
                        ImGui::ColorConvertU32ToFloat4(to_imcolor(theme.background)));
  ImGui::Begin("##presentation", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                   ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float W = vp->Size.x, H = vp->Size.y, margin = std::max(16.0f, W * 0.015f);
  float y = vp->Pos.y + margin * 0.5f;
  if (!p.error.empty()) {
    // Large enough to read from the lectern: the audience sees the current scene instead.
    ImFont* ef = font_for_size(s.gl.fonts, 28.0f);
    y += centred_wrapped(dl, ef ? ef : ImGui::GetFont(), "lecture not loaded: " + p.error,
                         vp->Pos.x + margin, W - 2 * margin, y, to_imcolor(fig::rgb8(213, 94, 0)));
  }
  const float counter_h = s.gl.fonts.ui ? s.gl.fonts.ui->FontSize * 1.4f : 24.0f;
  const std::string counter = std::to_string(p.slide + 1) + " / " + std::to_string(n) +
                              "    \u2190 \u2192  step    Esc  leave";
  dl->AddText(s.gl.fonts.ui, s.gl.fonts.ui ? s.gl.fonts.ui->FontSize : 16.0f,
              ImVec2(vp->Pos.x + margin, vp->Pos.y + H - counter_h), to_imcolor(theme.muted),
              counter.c_str());

  // The slide is the deck's page: title, figure and caption laid out together, 1280 units
  // wide at the screen's aspect and scaled to fill it, as `attnlab export --lecture` draws it.
  const ImVec2 area(W - 2 * margin, std::max(vp->Pos.y + H - counter_h - y, 50.0f));
  const fig::FigureSize size{kSlideUnits, std::floor(kSlideUnits * area.y / area.x)};
  const std::string key = std::to_string(static_cast<int>(size.height));
  const uint64_t rev = s.session.revision(core::kArchitecture | core::kLook);
  if (p.cache_slide != p.slide || p.cache_rev != rev || p.cache.layout_key != key) {
    scene.title = title;
    scene.caption = caption;
    const fig::ViewEntry* e = fig::find_view(scene.view);
    if (!e || e->live) e = fig::find_view("mask");  // lecture slides are analytic
    p.cache.figure = fig::build_view_figure(*e, scene, theme, size);
    p.cache.version = ++s.caches.counter;
    p.cache_rev = rev;
    p.cache.layout_key = key;
    p.cache_slide = p.slide;
  }
  ImGui::SetCursorScreenPos(ImVec2(vp->Pos.x + margin, y));
  const FigureDrawContext ctx{s.gl.heatmaps, s.gl.fonts, "present", p.cache.version};
  p.cache.canvas = draw_figure(p.cache.figure, area, ctx);
  ImGui::End();
  ImGui::PopStyleColor();
  ImGui::PopStyleVar(2);
}

}  // namespace app
