#include "app/ui_theme.h"

#include <imgui.h>

#include "app/figure_draw.h"
#include "core/figure/theme.h"

namespace app {

void apply_ui_theme(const std::string& name) {
  ImGuiStyle& st = ImGui::GetStyle();
  st = ImGuiStyle();
  const bool light = name == "light";
  if (light) {
    ImGui::StyleColorsLight(&st);
  } else {
    ImGui::StyleColorsDark(&st);
  }
  st.WindowRounding = 0;
  st.FrameRounding = 3;
  st.GrabRounding = 3;
  st.TabRounding = 3;
  st.WindowBorderSize = 1;
  st.FramePadding = ImVec2(6, 4);
  st.ItemSpacing = ImVec2(8, 6);
  st.ScrollbarSize = 14;
  // Window backgrounds match the figure background so panels read as one surface.
  const fig::Theme t = fig::theme_by_name(light ? "light" : "dark");
  const ImVec4 bg = ImGui::ColorConvertU32ToFloat4(to_imcolor(t.background));
  st.Colors[ImGuiCol_WindowBg] = bg;
  st.Colors[ImGuiCol_ChildBg] = bg;
  const ImVec4 hi = ImGui::ColorConvertU32ToFloat4(to_imcolor(t.highlight));
  st.Colors[ImGuiCol_CheckMark] = hi;
  st.Colors[ImGuiCol_SliderGrab] = ImVec4(hi.x, hi.y, hi.z, 0.8f);
  st.Colors[ImGuiCol_SliderGrabActive] = hi;
}

}  // namespace app
