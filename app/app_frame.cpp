#include "app/app_frame.h"

#include <GLFW/glfw3.h>
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/app_state.h"
#include "app/export_ui.h"
#include "app/live_ui.h"
#include "app/presentation.h"
#include "app/ui_theme.h"

namespace app {
namespace {

constexpr ImGuiWindowFlags kFixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                    ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings;

void global_keys(AppState& s) {
  const ImGuiIO& io = ImGui::GetIO();
  if (ImGui::IsKeyPressed(GLFW_KEY_F5, false)) {
    if (s.present.active) {
      leave_presentation(s);
    } else {
      enter_presentation(s);
    }
  }
  if (!s.present.active && io.KeyCtrl && ImGui::IsKeyPressed(GLFW_KEY_E, false)) export_focused(s);
}

void panel_toolbar(AppState& s, const Panel& p) {
  draw_export_button(s, p);
  ImGui::SameLine();
  ImGui::TextDisabled("hover a cell for details   Ctrl+E export   F5 present");
}

void draw_single(AppState& s, ImVec2 pos, ImVec2 size) {
  ImGui::SetNextWindowPos(pos);
  ImGui::SetNextWindowSize(size);
  ImGui::Begin("##views", nullptr, kFixed | ImGuiWindowFlags_NoTitleBar);
  if (ImGui::BeginTabBar("views")) {
    for (const Panel& p : s.panels) {
      if (p.sidebar) continue;
      const bool select = s.focus_request && s.focused == p.id;
      if (ImGui::BeginTabItem(p.title.c_str(), nullptr,
                              select ? ImGuiTabItemFlags_SetSelected : 0)) {
        if (!s.focus_request) s.focused = p.id;
        ImGui::PushID(p.id.c_str());
        panel_toolbar(s, p);
        p.draw(s);
        ImGui::PopID();
        ImGui::EndTabItem();
      }
    }
    ImGui::EndTabBar();
  }
  s.focus_request = false;
  ImGui::End();
}

void draw_grid(AppState& s, ImVec2 pos, ImVec2 size) {
  std::vector<const Panel*> views;
  for (const Panel& p : s.panels)
    if (!p.sidebar) views.push_back(&p);
  if (views.empty()) return;
  const int n = static_cast<int>(views.size());
  const int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int rows = (n + cols - 1) / cols;
  const float w = size.x / cols, h = size.y / rows;
  for (int i = 0; i < n; ++i) {
    const Panel& p = *views[i];
    ImGui::SetNextWindowPos(ImVec2(pos.x + (i % cols) * w, pos.y + (i / cols) * h));
    ImGui::SetNextWindowSize(ImVec2(w, h));
    if (s.focus_request && s.focused == p.id) ImGui::SetNextWindowFocus();
    ImGui::Begin((p.title + "##" + p.id).c_str(), nullptr, kFixed);
    if (ImGui::IsWindowFocused(ImGuiFocusedFlags_RootAndChildWindows)) s.focused = p.id;
    ImGui::PushID(p.id.c_str());
    draw_export_button(s, p);
    p.draw(s);
    ImGui::PopID();
    ImGui::End();
  }
  s.focus_request = false;
}

void draw_status_bar(AppState& s, ImVec2 pos, ImVec2 size) {
  ImGui::SetNextWindowPos(pos);
  ImGui::SetNextWindowSize(size);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(8, 4));
  ImGui::Begin("##status", nullptr, kFixed | ImGuiWindowFlags_NoDecoration);
  char fps[32] = "-- fps";
  if (s.frame.fps > 0) std::snprintf(fps, sizeof fps, "%.0f fps", s.frame.fps);
  ImGui::Text("backend: %s   %s   ui %.2f ms   N=%d   panel: %s", s.backend.c_str(), fps,
              s.frame.ui_ms, s.editor.scene.seq_len, s.focused.c_str());
  if (s.session.live_started()) {
    ImGui::SameLine();
    ImGui::TextUnformatted(("   " + live_status_line(s)).c_str());
  }
  const std::string& msg = !s.exports.message.empty() ? s.exports.message : std::string();
  if (!msg.empty()) {
    ImGui::SameLine();
    ImGui::TextColored(
        s.exports.error ? ImVec4(0.95f, 0.35f, 0.3f, 1) : ImVec4(0.4f, 0.8f, 0.5f, 1), "  %s",
        msg.c_str());
  }
  ImGui::End();
  ImGui::PopStyleVar();
}

}  // namespace

void draw_app_frame(AppState& s) {
  // The session takes the whole scene once per frame, before anything draws from it.
  s.session.update(s.editor.scene);
  live_tick(s);
  s.session.update(s.editor.scene);  // a scripted or loaded-model change of this frame
  s.frame.hover_text.clear();
  if (s.gl.ui_theme_applied != s.editor.scene.theme) {
    apply_ui_theme(s.editor.scene.theme);
    s.gl.ui_theme_applied = s.editor.scene.theme;
  }
  global_keys(s);
  if (s.present.active) {
    draw_presentation(s);
    return;
  }
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  const float status_h = ImGui::GetFontSize() + 10.0f;
  const float side_w = std::clamp(vp->Size.x * 0.24f, 300.0f, 430.0f);
  const float main_h = vp->Size.y - status_h;
  // Every sidebar panel shares the left column; the first is the scene controls.
  ImGui::SetNextWindowPos(vp->Pos);
  ImGui::SetNextWindowSize(ImVec2(side_w, main_h));
  ImGui::Begin("Controls", nullptr, kFixed);
  bool first = true;
  for (const Panel& p : s.panels) {
    if (!p.sidebar) continue;
    ImGui::PushID(p.id.c_str());
    if (first || ImGui::CollapsingHeader(p.title.c_str(), ImGuiTreeNodeFlags_DefaultOpen))
      p.draw(s);
    ImGui::PopID();
    first = false;
  }
  ImGui::End();
  const ImVec2 views_pos(vp->Pos.x + side_w, vp->Pos.y);
  const ImVec2 views_size(vp->Size.x - side_w, main_h);
  if (s.layout == Layout::Grid) {
    draw_grid(s, views_pos, views_size);
  } else {
    draw_single(s, views_pos, views_size);
  }
  draw_status_bar(s, ImVec2(vp->Pos.x, vp->Pos.y + main_h), ImVec2(vp->Size.x, status_h));
  draw_export_popup(s);
}

}  // namespace app
