#include "app/scene_io_ui.h"

#include <imgui.h>
#include <imgui_stdlib.h>

#include "app/app_state.h"
#include "core/figure/views.h"
#include "core/io/atomic_write.h"
#include "core/scene/scene_json.h"

namespace app {

bool load_scene_into(AppState& s, const std::string& path) {
  try {
    std::vector<std::string> warnings;
    const core::Scene scene = core::load_scene(path, warnings);
    set_scene(s, scene);
    s.focused = scene.view;
    s.focus_request = true;
    s.scene_message = "loaded " + path;
    for (const std::string& w : warnings) s.scene_message += "\nwarning: " + w;
    s.scene_message_error = false;
    return true;
  } catch (const std::exception& e) {
    s.scene_message = e.what();
    s.scene_message_error = true;
    return false;
  }
}

bool save_scene_from(AppState& s, const std::string& path) {
  try {
    // The file records what is on screen: the focused view goes into `view`.
    core::Scene scene = s.scene;
    if (fig::parse_view(s.focused)) scene.view = s.focused;
    core::save_scene(path, scene);
    s.scene_message = "saved " + path;
    s.scene_message_error = false;
    return true;
  } catch (const std::exception& e) {
    s.scene_message = e.what();
    s.scene_message_error = true;
    return false;
  }
}

void draw_scene_io(AppState& s) {
  ImGui::InputText("path", &s.scene_path);
  if (ImGui::Button("Load")) load_scene_into(s, s.scene_path);
  ImGui::SameLine();
  if (ImGui::Button("Save")) save_scene_from(s, s.scene_path);
  if (!s.edit_error.empty()) {
    ImGui::SameLine();
    ImGui::TextDisabled("(saves the last valid scene)");
  }
  if (!s.scene_message.empty()) {
    if (s.scene_message_error) ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.95f, 0.35f, 0.3f, 1));
    ImGui::TextWrapped("%s", s.scene_message.c_str());
    if (s.scene_message_error) ImGui::PopStyleColor();
  }
}

}  // namespace app
