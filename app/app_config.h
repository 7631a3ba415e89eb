// The app's remembered settings (last export folder, name and format) in
// $XDG_CONFIG_HOME/attnlab/app.json, or ~/.config/attnlab/app.json. Written atomically.
#pragma once

#include <string>

namespace app {

struct ExportSettings;

// "" when neither XDG_CONFIG_HOME nor HOME is set.
std::string default_config_path();

// Missing file: keeps the defaults and returns true. A broken file returns false with `error`
// set (the app then starts with defaults and says so).
bool load_config(const std::string& path, ExportSettings& out, std::string& error);

// Creates the folder when needed. False with `error` set on failure.
bool save_config(const std::string& path, const ExportSettings& in, std::string& error);

}  // namespace app
