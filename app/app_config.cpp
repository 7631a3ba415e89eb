#include "app/app_config.h"

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/app_state.h"
#include "core/io/atomic_write.h"
#include "core/io/json_read.h"

namespace app {

std::string default_config_path() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/attnlab/app.json";
  const char* home = std::getenv("HOME");
  if (home && *home) return std::string(home) + "/.config/attnlab/app.json";
  return "";
}

bool load_config(const std::string& path, ExportSettings& out, std::string& error) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) return true;
  try {
    const nlohmann::json j = core::parse_json_limited(core::read_file(path), path);
    const nlohmann::json e = j.value("export", nlohmann::json::object());
    out.folder = e.value("folder", out.folder);
    out.name = e.value("name", out.name);
    out.last_panel = e.value("panel", out.last_panel);
    out.format =
        core::exp::parse_format(e.value("format", std::string("png"))).value_or(out.format);
    out.width = e.value("width", out.width);
    out.height = e.value("height", out.height);
    out.scale = e.value("scale", out.scale);
    out.theme = e.value("theme", out.theme);
    return true;
  } catch (const std::exception& ex) {
    error = path + ": " + ex.what();
    return false;
  }
}

bool save_config(const std::string& path, const ExportSettings& in, std::string& error) {
  if (path.empty()) {
    error = "no config folder (set HOME or XDG_CONFIG_HOME)";
    return false;
  }
  try {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    nlohmann::ordered_json j;
    j["version"] = 1;
    j["export"] = {{"folder", in.folder},    {"name", in.name},
                   {"panel", in.last_panel}, {"format", core::exp::format_name(in.format)},
                   {"width", in.width},      {"height", in.height},
                   {"scale", in.scale},      {"theme", in.theme}};
    core::write_file_atomic(path,
                            j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    return true;
  } catch (const std::exception& ex) {
    error = ex.what();
    return false;
  }
}

}  // namespace app
