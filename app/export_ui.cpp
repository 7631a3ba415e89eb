#include "app/export_ui.h"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <filesystem>

#include "app/app_config.h"
#include "app/app_state.h"
#include "app/panels/view_panel.h"
#include "app/view_cache.h"

namespace app {
namespace {

constexpr const char* kPopupId = "Export figure";

fig::Theme export_theme(const AppState& s) {
  return s.exports.settings.theme == "slides" ? fig::theme_slides() : screen_theme(s);
}

std::string strip_extension(const std::string& name) {
  const std::filesystem::path p(name);
  return core::exp::format_from_path(name) ? p.stem().string() : name;
}

}  // namespace

std::string export_path_for(const AppState& s, const std::string& panel_id) {
  const ExportSettings& e = s.exports.settings;
  const std::string name = (!e.name.empty() && e.last_panel == panel_id) ? e.name : panel_id;
  const std::string folder = e.folder.empty() ? "." : e.folder;
  return (std::filesystem::path(folder) / (name + "." + core::exp::format_name(e.format))).string();
}

bool export_panel_to(AppState& s, const Panel& panel, const std::string& path) {
  ExportState& ui = s.exports;
  const fig::ViewEntry* entry = panel.exports ? fig::find_view(panel.id) : nullptr;
  if (!entry) {
    ui.message = "the " + panel.title + " panel has nothing to export";
    ui.error = true;
    return false;
  }
  ExportSettings& e = s.exports.settings;
  if (const auto f = core::exp::format_from_path(path)) e.format = *f;
  try {
    const fig::FigureSize size{static_cast<float>(e.width), static_cast<float>(e.height)};
    const core::Scene scene = titled_for(s.session.scene(), entry->id);
    const fig::ViewInput in = view_input(s, *entry, scene);
    const fig::ViewData data = entry->build_data(in);
    if (!data.data)
      throw core::exp::ExportError("the " + panel.title +
                                   " panel has no figure yet: " + data.message);
    const fig::Figure figure = entry->build_figure(data, in, export_theme(s), size);
    core::exp::ExportOptions opts;
    opts.format = e.format;
    opts.width = static_cast<float>(e.width);
    opts.height = static_cast<float>(e.height);
    opts.scale = e.scale;
    core::exp::export_figure(figure, path, opts);
  } catch (const std::exception& ex) {
    ui.message = std::string("export failed: ") + ex.what();
    ui.error = true;
    return false;
  }
  const std::filesystem::path p(path);
  e.folder = p.has_parent_path() ? p.parent_path().string() : ".";
  e.name = strip_extension(p.filename().string());
  e.last_panel = panel.id;
  ui.message = "exported " + path;
  ui.error = false;
  std::string err;
  if (!save_config(s.exports.config_path, e, err))
    ui.message += " (settings not saved: " + err + ")";
  return true;
}

bool export_focused(AppState& s) {
  const Panel* p = find_panel(s, s.focused);
  if (!p) {
    s.exports.message = "no panel named '" + s.focused + "' to export";
    s.exports.error = true;
    return false;
  }
  return export_panel_to(s, *p, export_path_for(s, p->id));
}

void draw_export_button(AppState& s, const Panel& panel) {
  if (!panel.exports) return;
  if (ImGui::SmallButton("Export...")) {
    s.exports.popup_panel = panel.id;
    s.exports.open_request = true;
    s.focused = panel.id;
  }
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("PNG, SVG or PDF of this figure (Ctrl+E: export again)");
}

void draw_export_popup(AppState& s) {
  ExportState& ui = s.exports;
  ExportSettings& e = s.exports.settings;
  if (ui.open_request) {
    ImGui::OpenPopup(kPopupId);
    ui.open_request = false;
    ui.message.clear();
    if (e.last_panel != ui.popup_panel) e.name = ui.popup_panel;
  }
  ImGui::SetNextWindowSize(ImVec2(ImGui::GetFontSize() * 30, 0), ImGuiCond_Appearing);
  if (!ImGui::BeginPopupModal(kPopupId, nullptr, ImGuiWindowFlags_NoSavedSettings)) return;
  const Panel* panel = find_panel(s, ui.popup_panel);
  ImGui::Text("Panel: %s", panel ? panel->title.c_str() : ui.popup_panel.c_str());
  ImGui::InputText("folder", &e.folder);
  ImGui::InputText("file name", &e.name);
  const char* formats[] = {"png", "svg", "pdf"};
  int fmt = static_cast<int>(e.format);
  if (ImGui::Combo("format", &fmt, formats, 3)) e.format = static_cast<core::exp::Format>(fmt);
  ImGui::InputInt("width", &e.width, 0);
  ImGui::SameLine();
  ImGui::TextDisabled("0 = view default");
  ImGui::InputInt("height", &e.height, 0);
  ImGui::SameLine();
  ImGui::TextDisabled("0 = view default");
  if (e.format == core::exp::Format::Png)
    ImGui::SliderFloat("scale", &e.scale, 1.0f, 4.0f, "%.1f x");
  const char* themes[] = {"screen", "slides"};
  int th = e.theme == "slides" ? 1 : 0;
  if (ImGui::Combo("theme", &th, themes, 2)) e.theme = themes[th];
  e.width = std::max(e.width, 0);
  e.height = std::max(e.height, 0);
  const std::string name = e.name.empty() ? ui.popup_panel : strip_extension(e.name);
  const std::string path = (std::filesystem::path(e.folder.empty() ? "." : e.folder) /
                            (name + "." + core::exp::format_name(e.format)))
                               .string();
  ImGui::TextDisabled("-> %s", path.c_str());
  if (!ui.message.empty() && ui.error) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.95f, 0.35f, 0.3f, 1));
    ImGui::TextWrapped("%s", ui.message.c_str());
    ImGui::PopStyleColor();
  }
  if (ImGui::Button("Export") && panel) {
    if (export_panel_to(s, *panel, path)) ImGui::CloseCurrentPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)))
    ImGui::CloseCurrentPopup();
  ImGui::EndPopup();
}

}  // namespace app
