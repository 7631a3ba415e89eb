#include "app/scene_io_ui.h"

#include <imgui.h>
#include <imgui_stdlib.h>

#include "app/app_state.h"
#include "core/figure/view_registry.h"
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
    s.editor.message = "loaded " + path;
    for (const std::string& w : warnings) s.editor.message += "\nwarning: " + w;
    s.editor.message_error = false;
    return true;
  } catch (const std::exception& e) {
    s.editor.message = e.what();
    s.editor.message_error = true;
    return false;
  }
}

bool save_scene_from(AppState& s, const std::string& path) {
  try {
    // The file records what is on screen: the focused view goes into `view`.
    core::Scene scene = s.editor.scene;
    if (fig::find_view(s.focused)) scene.view = s.focused;
    core::save_scene(path, scene);
    s.editor.message = "saved " + path;
    s.editor.message_error = false;
    return true;
  } catch (const std::exception& e) {
    s.editor.message = e.what();
    s.editor.message_error = true;
    return false;
  }
}

void draw_scene_io(AppState& s) {
  ImGui::InputText("path", &s.editor.path);
  if (ImGui::Button("Load")) load_scene_into(s, s.editor.path);
  ImGui::SameLine();
  if (ImGui::Button("Save")) save_scene_from(s, s.editor.path);
  if (!s.editor.edit_error.empty()) {
    ImGui::SameLine();
    ImGui::TextDisabled("(saves the last valid scene)");
  }
  if (!s.editor.message.empty()) {
    if (s.editor.message_error) ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.95f, 0.35f, 0.3f, 1));
    ImGui::TextWrapped("%s", s.editor.message.c_str());
    if (s.editor.message_error) ImGui::PopStyleColor();
  }
}

}  // namespace app
