// ImGui style for the app's dark and light themes; figure colours come from fig::Theme.
#pragma once

#include <string>

namespace app {

// Applies "dark" or "light" (anything else is dark) to the current ImGui style.
void apply_ui_theme(const std::string& name);

}  // namespace app
