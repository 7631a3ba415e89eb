#include "app/ui_fonts.h"

#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace app {
namespace {

// Basic Latin, Latin-1, Greek, general punctuation, arrows and math operators (the atlas
// keeps a pointer to this table until it is built).
const ImWchar kRanges[] = {0x0020, 0x024F, 0x0370, 0x03FF, 0x2000, 0x206F,
                           0x2190, 0x21FF, 0x2200, 0x22FF, 0};

std::string find_dejavu() {
  std::string out;
  if (FILE* p = popen("fc-match -f '%{file}' DejaVuSans 2>/dev/null", "r")) {
    char buf[1024];
    size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
  }
  std::error_code ec;
  if (!out.empty() && std::filesystem::exists(out, ec)) return out;
  const char* fallback = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  if (std::filesystem::exists(fallback, ec)) return fallback;
  return "";
}

}  // namespace

void load_fonts(UiFonts& f, float ui_px, float screen_h) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  f.by_size.clear();
  f.path = find_dejavu();
  auto add = [&](float px) -> ImFont* {
    if (f.path.empty()) {
      ImFontConfig cfg;
      cfg.SizePixels = px;
      return io.Fonts->AddFontDefault(&cfg);
    }
    ImFontConfig cfg;
    cfg.OversampleH = 2;
    cfg.OversampleV = 1;
    return io.Fonts->AddFontFromFileTTF(f.path.c_str(), px, &cfg, kRanges);
  };
  f.ui = add(ui_px);
  const float figure_sizes[] = {10, 13, 17, 22, 28, 36};
  for (float px : figure_sizes) f.by_size.push_back(add(px));
  const float big = std::clamp(screen_h / 15.0f, 40.0f, 110.0f);
  f.present_title = add(big);
  f.present_caption = add(big * 0.62f);
  f.by_size.push_back(f.present_caption);
  f.by_size.push_back(f.present_title);
  std::sort(f.by_size.begin(), f.by_size.end(),
            [](const ImFont* a, const ImFont* b) { return a->FontSize < b->FontSize; });
  io.FontDefault = f.ui;
}

ImFont* font_for_size(const UiFonts& f, float px) {
  if (f.by_size.empty()) return ImGui::GetFont();
  for (ImFont* font : f.by_size)
    if (font->FontSize >= px * 0.92f) return font;
  return f.by_size.back();
}

}  // namespace app
