#include "app/live_ui.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/app_state.h"
#include "app/panels/view_panel.h"
#include "core/attention/window_text.h"
#include "core/io/assets.h"
#include "core/io/atomic_write.h"

namespace app {
namespace {

namespace fs = std::filesystem;

void load_prompts(LiveUi& u) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(core::asset_path("prompts"), ec))
    if (e.path().extension() == ".txt" && e.path().filename() != "README.txt")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& p : files) {
    try {
      u.prompts.emplace_back(p.stem().string(), core::read_file(p.string()));
    } catch (const std::exception&) {
    }
  }
}

void list_dir(LiveUi& u) {
  if (u.browser_listed == u.browser_dir) return;
  u.browser_dirs.clear();
  u.browser_files.clear();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(u.browser_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (e.is_directory(ec))
      u.browser_dirs.push_back(name);
    else if (e.path().extension() == ".gguf")
      u.browser_files.push_back(name);
  }
  std::sort(u.browser_dirs.begin(), u.browser_dirs.end());
  std::sort(u.browser_files.begin(), u.browser_files.end());
  u.browser_listed = u.browser_dir;
}

void draw_file_browser(AppState& s, LiveUi& u) {
  if (!ImGui::BeginPopupModal("Open GGUF", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
  list_dir(u);
  ImGui::TextUnformatted(u.browser_dir.c_str());
  ImGui::BeginChild("##files", ImVec2(ImGui::GetFontSize() * 36, ImGui::GetFontSize() * 18), true);
  if (ImGui::Selectable("../")) {
    u.browser_dir = fs::path(u.browser_dir).parent_path().string();
    if (u.browser_dir.empty()) u.browser_dir = "/";
  }
  for (const std::string& d : u.browser_dirs)
    if (ImGui::Selectable((d + "/").c_str())) {
      u.browser_dir = (fs::path(u.browser_dir) / d).string();
      break;
    }
  for (const std::string& f : u.browser_files)
    if (ImGui::Selectable(f.c_str(), false, ImGuiSelectableFlags_DontClosePopups)) {
      const std::string path = (fs::path(u.browser_dir) / f).string();
      std::snprintf(u.path_buf.data(), u.path_buf.size(), "%s", path.c_str());
      core::Scene sc = s.scene;
      sc.model = path;
      set_scene(s, sc);
      ImGui::CloseCurrentPopup();
    }
  if (u.browser_dirs.empty() && u.browser_files.empty())
    ImGui::TextDisabled("(no folders or .gguf files)");
  ImGui::EndChild();
  if (ImGui::Button("Cancel")) ImGui::CloseCurrentPopup();
  ImGui::EndPopup();
}

}  // namespace

LiveUi& live_ui(AppState& s) {
  if (!s.live) {
    s.live = std::make_shared<LiveUi>();
    load_prompts(*s.live);
    try {
      s.live->model_names = core::model::catalog_model_names();
    } catch (const std::exception& e) {
      s.live->catalog_error = e.what();
    }
    s.live->browser_dir = core::model::model_dir();
  }
  return *s.live;
}

bool live_started(const AppState& s) {
  return s.live != nullptr;
}

void live_tick(AppState& s) {
  LiveUi& u = live_ui(s);
  if (u.tick_frame == ImGui::GetFrameCount()) return;
  u.tick_frame = ImGui::GetFrameCount();
  u.session.update(s.scene);
  const auto r = u.session.result();
  const bool idle = u.session.idle();
  if (u.playing && idle && ImGui::GetTime() >= u.next_play_s && r->pass) {
    u.session.step(1);
    u.next_play_s = ImGui::GetTime() + 0.35;
  }
  if (idle && r->pass) {
    if (u.script_steps > 0 && !u.script_started) {
      u.session.step(u.script_steps);
      u.script_started = true;
    } else if (!u.script_model.empty() && (u.script_steps == 0 || u.script_started)) {
      core::Scene sc = s.scene;
      sc.model = u.script_model;
      u.script_model.clear();
      set_scene(s, sc);
      u.session.update(s.scene);
    }
  }
}

bool live_idle(const AppState& s) {
  if (!s.live) return true;
  const LiveUi& u = *s.live;
  return u.session.idle() && (u.script_steps == 0 || u.script_started) && u.script_model.empty();
}

std::string live_status_line(const AppState& s) {
  if (!s.live) return "";
  const auto r = s.live->session.result();
  char buf[512];
  if (!r->config) return r->error.empty() ? "live: loading model" : "live: " + r->error;
  std::snprintf(buf, sizeof buf, "live: %s | backend %s | %d tokens | pass %.0f ms",
                r->model_name.c_str(), r->backend.c_str(),
                r->pass ? static_cast<int>(r->pass->tokens.size()) : 0,
                r->pass ? r->pass->ms : 0.0);
  return buf;
}

std::string live_status_json(const AppState& s) {
  nlohmann::ordered_json j;
  if (!s.live) {
    j["started"] = false;
    return j.dump();
  }
  const LiveUi& u = *s.live;
  const auto r = u.session.result();
  j["started"] = true;
  j["idle"] = u.session.idle();
  j["model_path"] = r->model_path;
  j["model_name"] = r->model_name;
  j["backend"] = r->backend;
  j["tokens"] = r->pass ? static_cast<int>(r->pass->tokens.size()) : 0;
  j["pass_ms"] = r->pass ? r->pass->ms : 0.0;
  j["kv_heads"] = r->pass ? r->pass->kv_heads : 0;
  j["error"] = r->error;
  j["status_line"] = live_status_line(s);
  j["generation_steps"] = r->generation ? static_cast<int>(r->generation->steps.size()) - 1 : -1;
  if (r->generation && !r->generation->steps.empty()) {
    const core::LiveRing ring = core::build_live_ring(*r->generation);
    j["ring"] = {{"window", ring.window},
                 {"n_tokens", ring.n_tokens},
                 {"written_slot", ring.written_slot},
                 {"evicted_pos", ring.evicted_pos},
                 {"identical", ring.identical},
                 {"fits", ring.fits}};
  }
  if (r->perplexity) {
    j["ppl_native"] = r->perplexity->native;
    j["ppl_variant"] = r->perplexity->variant;
  }
  for (const auto& [name, c] : u.figures)
    j["canvas"][name] = {
        {"x", c.canvas.origin.x}, {"y", c.canvas.origin.y}, {"scale", c.canvas.scale}};
  auto it = u.figures.find(fig::live_view_name(fig::LiveViewId::Attention));
  if (it != u.figures.end()) {
    const LiveFigureCache& c = it->second;
    if (const fig::Heatmap* h = fig::find_heatmap(c.figure, fig::kLiveAttentionHeatmapId)) {
      j["attention_map"] = {{"x", c.canvas.origin.x + h->x * c.canvas.scale},
                            {"y", c.canvas.origin.y + h->y * c.canvas.scale},
                            {"w", h->w * c.canvas.scale},
                            {"h", h->h * c.canvas.scale},
                            {"rows", h->rows},
                            {"cols", h->cols}};
    }
  }
  // A load error can quote a model name or path that is not UTF-8: written as U+FFFD.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void draw_live_header(AppState& s) {
  LiveUi& u = live_ui(s);
  live_tick(s);
  const auto r = u.session.result();
  core::Scene sc = s.scene;
  bool changed = false;

  // Model: one of the catalog's (downloaded by scripts/setup) or a GGUF file.
  if (!u.catalog_error.empty())
    ImGui::TextColored(ImVec4(0.95f, 0.35f, 0.3f, 1), "%s", u.catalog_error.c_str());
  std::vector<const char*> items;
  for (const std::string& n : u.model_names) items.push_back(n.c_str());
  items.push_back("GGUF file");
  const int n_named = static_cast<int>(u.model_names.size());
  int mi = static_cast<int>(std::find(u.model_names.begin(), u.model_names.end(), sc.model) -
                            u.model_names.begin());
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
  if (ImGui::Combo("model", &mi, items.data(), static_cast<int>(items.size())) && mi < n_named) {
    sc.model = u.model_names[mi];
    changed = true;
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 22);
  if (u.path_buf[0] == '\0' && mi == n_named)
    std::snprintf(u.path_buf.data(), u.path_buf.size(), "%s", sc.model.c_str());
  if (ImGui::InputTextWithHint("##gguf", "path/to/model.gguf", u.path_buf.data(), u.path_buf.size(),
                               ImGuiInputTextFlags_EnterReturnsTrue) &&
      u.path_buf[0]) {
    sc.model = u.path_buf.data();
    changed = true;
  }
  ImGui::SameLine();
  if (ImGui::Button("Load")) {
    if (u.path_buf[0]) {
      sc.model = u.path_buf.data();
      changed = true;
    }
  }
  ImGui::SameLine();
  if (ImGui::Button("Browse...")) ImGui::OpenPopup("Open GGUF");
  draw_file_browser(s, u);

  // Prompt: presets from assets/prompts and a free text box.
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 9);
  if (ImGui::BeginCombo("prompt", "examples")) {
    for (const auto& [name, text] : u.prompts)
      if (ImGui::Selectable(name.c_str())) {
        sc.prompt = text;
        changed = true;
      }
    ImGui::EndCombo();
  }
  if (!ImGui::IsAnyItemActive() && sc.prompt != u.prompt_buf.data())
    std::snprintf(u.prompt_buf.data(), u.prompt_buf.size(), "%s", sc.prompt.c_str());
  if (ImGui::InputTextMultiline("##prompt", u.prompt_buf.data(), u.prompt_buf.size(),
                                ImVec2(-1, ImGui::GetTextLineHeight() * 2.6f))) {
    sc.prompt = u.prompt_buf.data();
    changed = true;
  }

  // Live setting: window override and K/V-head pooling.
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 9);
  if (ImGui::SliderInt("live window (0 = native)", &sc.variant.window, 0, 256)) changed = true;
  ImGui::SameLine();
  int conv = static_cast<int>(sc.variant.window_convention);
  const char* kConv[] = {attn::convention_phrase(attn::WindowConvention::IncludingSelf),
                         attn::convention_phrase(attn::WindowConvention::SelfPlusPrevious)};
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 11);
  if (ImGui::Combo("##conv", &conv, kConv, 2)) {
    sc.variant.window_convention = static_cast<attn::WindowConvention>(conv);
    changed = true;
  }
  if (r->config) {
    ImGui::SameLine();
    const int native = r->config->n_kv_heads;
    const std::string cur = sc.variant.kv_heads > 0 && sc.variant.kv_heads != native
                                ? std::to_string(sc.variant.kv_heads) + " (pooled)"
                                : std::to_string(native) + " (native)";
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
    if (ImGui::BeginCombo("KV heads", cur.c_str())) {
      for (int k = native; k >= 1; --k)
        if (native % k == 0 && r->config->n_heads % k == 0 &&
            ImGui::Selectable((std::to_string(k) + (k == native ? " (native)" : "")).c_str())) {
          sc.variant.kv_heads = k == native ? 0 : k;
          changed = true;
        }
      ImGui::EndCombo();
    }
  }
  ImGui::SameLine();
  const core::LiveProgress p = u.session.progress();
  if (p.busy) {
    const float f =
        p.fraction < 0 ? std::fmod(static_cast<float>(ImGui::GetTime()) * 0.5f, 1.0f) : p.fraction;
    ImGui::ProgressBar(f, ImVec2(-1, 0), p.stage.c_str());
  } else {
    ImGui::TextDisabled("%s", live_status_line(s).c_str());
  }
  if (!r->error.empty()) ImGui::TextColored(ImVec4(0.95f, 0.35f, 0.3f, 1), "%s", r->error.c_str());
  if (changed) {
    set_scene(s, sc);
    u.session.update(s.scene);
  }
}

LiveFigureCache& live_figure(AppState& s, fig::LiveViewId id) {
  LiveUi& u = live_ui(s);
  LiveFigureCache& c = u.figures[fig::live_view_name(id)];
  const auto r = u.session.result();
  const uint64_t opts = static_cast<uint64_t>(u.options.aggregate) * 7 + u.options.difference * 3 +
                        static_cast<uint64_t>(u.options.ring_step + 1) * 101;
  if (c.result_rev == r->revision + 1 && c.scene_version == s.scene_version && c.options == opts &&
      c.theme == s.scene.theme)
    return c;
  const fig::Theme theme = screen_theme(s);
  c.attention.reset();
  if (id == fig::LiveViewId::Attention && r->pass && r->config) {
    core::LiveAttentionOptions ao;
    ao.layer = s.scene.layer;
    ao.head = s.scene.head;
    ao.aggregate = u.options.aggregate;
    ao.difference = u.options.difference;
    ao.thumb_cells = u.options.thumb_cells;
    ao.thumbs = ao.difference ? r->diff_thumbs.get() : r->pass->thumbs.get();
    c.attention = core::build_live_attention(*r->pass, r->native.get(), *r->config, ao);
    c.figure = fig::figure_live_attention(*c.attention, s.scene, *r, theme);
  } else {
    c.figure = fig::build_live_figure(id, s.scene, *r, theme, u.options);
  }
  c.result_rev = r->revision + 1;
  c.scene_version = s.scene_version;
  c.options = opts;
  c.theme = s.scene.theme;
  c.version = ++s.figure_counter;
  return c;
}

FigureCanvas draw_live_figure(AppState& s, fig::LiveViewId id, LiveFigureCache& c) {
  const FigureDrawContext ctx{s.heatmaps, s.fonts, fig::live_view_name(id), c.version};
  c.canvas = draw_figure(c.figure, ImGui::GetContentRegionAvail(), ctx);
  return c.canvas;
}

}  // namespace app
