#include "app/live_ui.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/app_state.h"
#include "core/figure/decorate.h"
#include "core/io/assets.h"
#include "core/io/atomic_write.h"
#include "core/scene/presets.h"
#include "core/session/live_draft.h"
#include "core/views/flash_view.h"
#include "core/views/live_ring.h"
#include "core/views/live_sparse.h"
#include "core/views/mask_grid.h"

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

// The catalog entry of a model name ("smollm2"), as opposed to a GGUF path; null for a path.
const core::model::CatalogModel* catalog_entry(const LiveUi& u, const std::string& model) {
  return core::model::find_catalog_model(u.catalog, model);
}

// Picks a model: a catalog model brings its preset (the analytic views describe the model
// that runs); a GGUF path gets the "from model" architecture once it has loaded.
void choose_model(AppState& s, core::Scene sc, const std::string& model) {
  sc.model = model;
  if (const auto* m = catalog_entry(s.live, model); m && core::find_preset(m->preset))
    core::apply_preset(sc, m->preset);
  sc.model = model;
  set_scene(s, sc);
}

void draw_file_browser(AppState& s, LiveUi& u) {
  if (!ImGui::BeginPopupModal("Open GGUF", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
  list_dir(u);
  ImGui::TextUnformatted(u.browser_dir.c_str());
  ImGui::BeginChild("##files", ImVec2(ImGui::GetFontSize() * 36, ImGui::GetFontSize() * 18), true);
  if (ImGui::Selectable("../")) {
    u.browser_dir = fs::path(u.browser_dir).parent_path().string();
    if (u.browser_dir.empty()) u.browser_dir.push_back('/');
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
      choose_model(s, s.editor.scene, path);
      ImGui::CloseCurrentPopup();
    }
  if (u.browser_dirs.empty() && u.browser_files.empty())
    ImGui::TextDisabled("(no folders or .gguf files)");
  ImGui::EndChild();
  if (ImGui::Button("Cancel")) ImGui::CloseCurrentPopup();
  ImGui::EndPopup();
}

uint64_t options_key(const fig::LiveViewOptions& o) {
  return static_cast<uint64_t>(o.aggregate) * 7 + static_cast<uint64_t>(o.difference) * 3 +
         static_cast<uint64_t>(o.ring_step + 1) * 101 +
         static_cast<uint64_t>(o.thumb_cells) * 7919 +
         static_cast<uint64_t>(o.flash_step + 1) * 1000003;
}

// A GGUF that loaded fills the "from model" architecture once.
void follow_loaded_model(AppState& s, const core::LiveResult& r) {
  LiveUi& u = s.live;
  const core::Scene& sc = s.editor.scene;
  if (!r.config || catalog_entry(u, sc.model) || r.model_path.empty() ||
      u.arch_from == r.model_path)
    return;
  if (core::model::resolve_model_path(sc.model) != r.model_path) return;  // an older model
  u.arch_from = r.model_path;
  core::Scene next = sc;
  core::architecture_from_model(next, *r.config);
  next.seq_len = std::max(next.seq_len, 1);
  next.query = std::min(next.query, next.seq_len - 1);
  set_scene(s, next);
}

void run_script(AppState& s, const core::LiveResult& r) {
  LiveUi& u = s.live;
  core::LiveSession& live = s.session.live();
  if (!live.idle() || !r.pass) return;
  if (u.script_steps > 0 && !u.script_started) {
    live.step(u.script_steps);
    u.script_started = true;
  } else if (!u.script_model.empty() && (u.script_steps == 0 || u.script_started)) {
    const std::string model = u.script_model;
    u.script_model.clear();
    choose_model(s, s.editor.scene, model);
  } else if (u.script_window > 0 && u.script_model.empty() &&
             (u.script_steps == 0 || u.script_started)) {
    core::Scene sc = s.editor.scene;  // what dragging the window slider does
    sc.window = u.script_window;
    u.script_window = 0;
    set_scene(s, sc);
  }
}

nlohmann::ordered_json screen_rect(const fig::Heatmap& h, const FigureCanvas& c) {
  return {{"id", h.id},
          {"x", c.origin.x + h.x * c.scale},
          {"y", c.origin.y + h.y * c.scale},
          {"w", h.w * c.scale},
          {"h", h.h * c.scale},
          {"rows", h.rows},
          {"cols", h.cols}};
}

// Pairs of text marks whose boxes (measured width, one line of their size) overlap.
int text_overlaps(const fig::Figure& f) {
  struct Box {
    float x0, y0, x1, y1;
  };
  std::vector<Box> boxes;
  for (const fig::Mark& m : f.marks)
    if (const auto* t = std::get_if<fig::Text>(&m); t && !t->text.empty() && t->angle_deg == 0) {
      const float w = fig::text_width(t->text, t->size, t->bold);
      const float x0 = t->anchor == fig::Anchor::Center  ? t->x - w / 2
                       : t->anchor == fig::Anchor::Right ? t->x - w
                                                         : t->x;
      boxes.push_back({x0, t->y - t->size * 0.8f, x0 + w, t->y + t->size * 0.2f});
    }
  int n = 0;
  for (size_t i = 0; i < boxes.size(); ++i)
    for (size_t k = i + 1; k < boxes.size(); ++k)
      n += boxes[i].x0 < boxes[k].x1 && boxes[k].x0 < boxes[i].x1 && boxes[i].y0 < boxes[k].y1 &&
           boxes[k].y0 < boxes[i].y1;
  return n;
}

}  // namespace

void live_ui_init(LiveUi& u) {
  load_prompts(u);
  try {
    u.catalog = core::model::model_catalog();
  } catch (const std::exception& e) {
    u.catalog_error = e.what();
  }
  u.browser_dir = core::model::model_dir();
  if (u.browser_dir.empty()) u.browser_dir.push_back('.');
}

std::string catalog_model_for(const LiveUi& u, const std::string& preset) {
  for (const core::model::CatalogModel& m : u.catalog)
    if (m.preset == preset) return m.name;
  return "";
}

void live_tick(AppState& s) {
  LiveUi& u = s.live;
  const uint64_t key = options_key(u.options);
  if (key != u.options_key) {
    u.options_key = key;
    s.session.touch(core::kLook);
  }
  if (!s.session.live_started()) return;
  core::LiveSession& live = s.session.live();
  const auto r = s.session.live_result();
  follow_loaded_model(s, *r);
  if (u.playing && live.idle() && ImGui::GetTime() >= u.next_play_s && r->pass) {
    live.step(1);
    u.next_play_s = ImGui::GetTime() + 0.35;
  }
  run_script(s, *r);
}

bool live_idle(const AppState& s) {
  const LiveUi& u = s.live;
  const bool script_done =
      (u.script_steps == 0 || u.script_started) && u.script_model.empty() && u.script_window == 0;
  return s.session.live_idle() && script_done;
}

std::string live_status_line(const AppState& s) {
  if (!s.session.live_started()) return "";
  const auto r = s.session.live_result();
  char buf[512];
  if (!r->config) return r->error.empty() ? "live: loading model" : "live: " + r->error;
  std::snprintf(buf, sizeof buf, "live: %s | backend %s | %d tokens | pass %.0f ms",
                r->model_name.c_str(), r->backend.c_str(),
                r->pass ? static_cast<int>(r->pass->tokens.size()) : 0,
                r->pass ? r->pass->ms : 0.0);
  std::string line = buf;
  if (r->pass) {  // which pass shows, and why there was or was not a draft first
    const std::string why = core::draft_choice_text(r->pass->draft_choice);
    line += std::string(r->pass->draft() ? " (draft" : " (exact") + (why.empty() ? "" : "; ") +
            why + ")";
  }
  if (r->partial)
    line += " | " + std::to_string(r->partial->layers_done) + " of " +
            std::to_string(r->config->n_layers) + " layers done" +
            (r->partial->draft() ? " (draft)" : " (exact)");
  if (const core::DraftDelta* d = r->draft_delta.get()) {
    const int l = std::clamp(s.editor.scene.layer, 0, d->n_layers - 1);
    const int h = std::clamp(s.editor.scene.head, 0, d->n_heads - 1);
    std::snprintf(buf, sizeof buf,
                  " | draft vs exact: max |dp| %.4f (layer %d head %d), %.4f over all", d->at(l, h),
                  l, h, d->overall);
    line += buf;
  }
  return line;
}

std::string live_status_json(const AppState& s) {
  nlohmann::ordered_json j;
  j["started"] = s.session.live_started();
  j["mask_grid_builds"] = core::mask_grid_builds();
  j["view_data_builds"] = s.caches.data_builds;
  j["hover_text"] = s.frame.hover_text;
  j["preset"] = s.editor.scene.preset;
  j["n_layers"] = s.editor.scene.n_layers;
  j["window"] = s.editor.scene.window;
  j["live_window"] = s.session.run().variant.window;
  for (const auto& [name, c] : s.caches.by_view) {
    j["canvas"][name] = {
        {"x", c.canvas.origin.x}, {"y", c.canvas.origin.y}, {"scale", c.canvas.scale}};
    for (const fig::Mark& m : c.figure.marks)
      if (const auto* h = std::get_if<fig::Heatmap>(&m); h && h->id > 0) {
        j["heatmap"][name] = screen_rect(*h, c.canvas);  // the view's first data heatmap
        break;
      }
    if (!c.figure.hover_areas.empty()) {  // the view's first hover area, on screen
      const fig::HoverArea& a = c.figure.hover_areas.front();
      j["hover_area"][name] = {{"id", a.id},
                               {"x", c.canvas.origin.x + a.x * c.canvas.scale},
                               {"y", c.canvas.origin.y + a.y * c.canvas.scale},
                               {"w", a.w * c.canvas.scale},
                               {"h", a.h * c.canvas.scale}};
    }
  }
  if (auto it = s.caches.by_view.find("flash"); it != s.caches.by_view.end())
    if (const auto* v = fig::view_data<core::FlashView>(it->second.data))  // what it traced
      j["flash_trace"] = {{"from_model", v->trace.from_model},
                          {"source", v->trace.source},
                          {"query", v->trace.query},
                          {"max_abs_diff", v->trace.max_abs_diff},
                          {"max_prob_diff_model", v->trace.max_prob_diff_model}};
  if (s.present.active)
    for (const fig::Mark& m : s.present.cache.figure.marks)
      if (const auto* h = std::get_if<fig::Heatmap>(&m); h && h->id > 0)
        j["present_heatmaps"].push_back(screen_rect(*h, s.present.cache.canvas));
  if (s.present.active) j["present_overlaps"] = text_overlaps(s.present.cache.figure);
  if (!s.session.live_started())
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  const auto r = s.session.live_result();
  j["idle"] = live_idle(s);
  j["model_path"] = r->model_path;
  j["model_name"] = r->model_name;
  j["backend"] = r->backend;
  j["prompt"] = r->prompt;
  j["tokens"] = r->pass ? static_cast<int>(r->pass->tokens.size()) : 0;
  j["pass_ms"] = r->pass ? r->pass->ms : 0.0;
  j["pass_window"] = r->pass ? r->pass->variant.window : 0;
  j["kv_heads"] = r->pass ? r->pass->kv_heads : 0;
  j["error"] = r->error;
  j["status_line"] = live_status_line(s);
  j["pass_precision"] = !r->pass ? "" : r->pass->draft() ? "draft" : "exact";
  if (r->pass) j["draft_choice"] = core::draft_choice_text(r->pass->draft_choice);
  if (r->draft_delta) j["draft_max_dp"] = r->draft_delta->overall;
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
  if (const core::LiveSparseCost sp = core::build_live_sparse(*r); sp.active)
    j["sparse"] = {{"visible_pairs", sp.visible_pairs},
                   {"dense_pairs", sp.dense_pairs},
                   {"status", sp.status}};
  auto it = s.caches.by_view.find("live_attention");
  if (it != s.caches.by_view.end())
    if (const fig::Heatmap* h = fig::find_heatmap(it->second.figure, fig::kLiveAttentionHeatmapId))
      j["attention_map"] = screen_rect(*h, it->second.canvas);
  // A load error can quote a model name or path that is not UTF-8: written as U+FFFD.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void draw_live_progress(AppState& s) {
  const core::LiveProgress p = s.session.live().progress();
  if (p.busy) {
    const float f =
        p.fraction < 0 ? std::fmod(static_cast<float>(ImGui::GetTime()) * 0.5f, 1.0f) : p.fraction;
    ImGui::ProgressBar(f, ImVec2(-1, 0), p.stage.c_str());
  } else {
    ImGui::TextDisabled("%s", live_status_line(s).c_str());
  }
  const auto r = s.session.live_result();
  if (!r->error.empty()) ImGui::TextColored(ImVec4(0.95f, 0.35f, 0.3f, 1), "%s", r->error.c_str());
}

void draw_run_controls(AppState& s) {
  LiveUi& u = s.live;
  core::Scene sc = s.editor.scene;
  bool changed = false;

  // Model: one of the catalog's (downloaded by scripts/setup) or a GGUF file.
  if (!u.catalog_error.empty())
    ImGui::TextColored(ImVec4(0.95f, 0.35f, 0.3f, 1), "%s", u.catalog_error.c_str());
  std::vector<const char*> items;
  for (const core::model::CatalogModel& m : u.catalog) items.push_back(m.name.c_str());
  items.push_back("GGUF file");
  const int n_named = static_cast<int>(u.catalog.size());
  int mi = n_named;
  for (int i = 0; i < n_named; ++i)
    if (u.catalog[static_cast<size_t>(i)].name == sc.model) mi = i;
  if (ImGui::Combo("model", &mi, items.data(), static_cast<int>(items.size())) && mi < n_named) {
    choose_model(s, sc, items[static_cast<size_t>(mi)]);
    return;
  }
  if (u.path_buf[0] == '\0' && mi == n_named)
    std::snprintf(u.path_buf.data(), u.path_buf.size(), "%s", sc.model.c_str());
  ImGui::SetNextItemWidth(-ImGui::GetFontSize() * 8.5f);
  const bool enter =
      ImGui::InputTextWithHint("##gguf", "path/to/model.gguf", u.path_buf.data(), u.path_buf.size(),
                               ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  if ((ImGui::Button("Load") || enter) && u.path_buf[0]) {
    choose_model(s, sc, u.path_buf.data());
    return;
  }
  ImGui::SameLine();
  if (ImGui::Button("Browse...")) ImGui::OpenPopup("Open GGUF");
  draw_file_browser(s, u);

  // Prompt: examples from assets/prompts and a free text box ("" = the default prompt).
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
                                ImVec2(-1, ImGui::GetTextLineHeight() * 3.2f))) {
    sc.prompt = u.prompt_buf.data();
    changed = true;
  }
  if (sc.prompt.empty()) ImGui::TextDisabled("(empty: the default prompt, recall.txt)");

  // The window is the Mask section's; the model can keep its own instead.
  changed |= ImGui::Checkbox("model's own windows", &sc.model_windows);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("off: the live model runs with the scene's window and convention");
  const auto r = s.session.live_result();
  if (r->config) {
    const int native = r->config->n_kv_heads;
    const std::string cur = sc.variant.kv_heads > 0 && sc.variant.kv_heads != native
                                ? std::to_string(sc.variant.kv_heads) + " (pooled)"
                                : std::to_string(native) + " (native)";
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
  if (s.session.live_started()) {
    draw_live_progress(s);
  } else {
    ImGui::TextDisabled("the model runs when a live view opens");
  }
  if (changed) set_scene(s, sc);
}

}  // namespace app
