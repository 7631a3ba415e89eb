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
  if (light) {
    // ImGui's light frames are white, which vanishes on the white figure background.
    st.Colors[ImGuiCol_FrameBg] = ImVec4(0.88f, 0.89f, 0.92f, 1);
    st.Colors[ImGuiCol_FrameBgHovered] = ImVec4(0.80f, 0.85f, 0.95f, 1);
    st.Colors[ImGuiCol_FrameBgActive] = ImVec4(0.72f, 0.80f, 0.95f, 1);
    st.Colors[ImGuiCol_PopupBg] = ImVec4(0.98f, 0.98f, 0.99f, 1);
    st.Colors[ImGuiCol_Border] = ImVec4(0.70f, 0.71f, 0.75f, 1);
  }
  const ImVec4 hi = ImGui::ColorConvertU32ToFloat4(to_imcolor(t.highlight));
  st.Colors[ImGuiCol_CheckMark] = hi;
  st.Colors[ImGuiCol_SliderGrab] = ImVec4(hi.x, hi.y, hi.z, 0.8f);
  st.Colors[ImGuiCol_SliderGrabActive] = hi;
}

}  // namespace app
