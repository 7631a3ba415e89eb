// Control panel: a widget for every Scene field. Edits go to AppState::edit and are checked
// by core::validate_scene (the same rules as scene files); an invalid edit shows the error and
// the views keep drawing the last valid scene, so nothing is silently clamped.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "app/app_state.h"
#include "app/live_ui.h"
#include "app/scene_io_ui.h"
#include "core/figure/colormap.h"
#include "core/figure/views.h"
#include "core/scene/presets.h"
#include "core/scene/scene_json.h"
#include "core/views/flash_tiling.h"

namespace app {
namespace {

bool slider(const char* label, int& v, int lo, int hi, bool log = false,
            const char* tip = nullptr) {
  hi = std::max(hi, lo + 1);
  const bool changed = ImGui::SliderInt(label, &v, lo, hi, "%d",
                                        log ? ImGuiSliderFlags_Logarithmic : ImGuiSliderFlags_None);
  if (tip && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tip);
  return changed;
}

template <typename E, size_t N>
bool combo(const char* label, E& v, const E (&values)[N], const char* (*name)(E)) {
  bool changed = false;
  if (ImGui::BeginCombo(label, name(v))) {
    for (E e : values) {
      if (ImGui::Selectable(name(e), e == v)) {
        v = e;
        changed = true;
      }
    }
    ImGui::EndCombo();
  }
  return changed;
}

bool string_combo(const char* label, std::string& v, const std::vector<std::string>& values) {
  bool changed = false;
  if (ImGui::BeginCombo(label, v.c_str())) {
    for (const std::string& e : values) {
      if (ImGui::Selectable(e.c_str(), e == v)) {
        v = e;
        changed = true;
      }
    }
    ImGui::EndCombo();
  }
  return changed;
}

// "24, 16 24" -> {24, 16, 24}; false with a message on anything that is not an integer.
bool parse_segments(const std::string& text, std::vector<int>& out, std::string& error) {
  out.clear();
  std::string token;
  std::istringstream in(text);
  while (std::getline(in, token, ',')) {
    std::istringstream words(token);
    std::string w;
    while (words >> w) {
      char* end = nullptr;
      const long v = std::strtol(w.c_str(), &end, 10);
      if (*end != '\0' || w.empty()) {
        error = "segments: '" + w + "' is not a whole number";
        return false;
      }
      out.push_back(static_cast<int>(std::clamp<long>(v, -1, 1L << 30)));
    }
  }
  return true;
}

void apply_edit(AppState& s) {
  try {
    core::validate_scene(s.editor.edit);
    const std::string segments = s.editor.segments_text;
    set_scene(s, s.editor.edit);
    s.editor.segments_text = segments;  // keep the user's spelling while typing
  } catch (const core::SceneError& e) {
    s.editor.edit_error = e.what();
  }
}

void architecture_section(AppState& s, bool& changed) {
  core::Scene& e = s.editor.edit;
  std::string preset = e.preset;
  if (string_combo("preset", preset, core::preset_names())) {
    core::apply_preset(e, preset);
    changed = true;
  }
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  if (const core::Preset* p = core::find_preset(e.preset)) {
    ImGui::TextWrapped("%s", p->source);
    if (catalog_model_for(s.live, p->name).empty())
      ImGui::TextWrapped("%s has no small runnable model here: the live views run %s.", p->name,
                         e.model.c_str());
  } else if (e.preset == core::kFromModelPreset) {
    ImGui::TextWrapped("read from the loaded model's metadata (%s)", e.model.c_str());
  }
  ImGui::PopStyleColor();
  changed |= slider("n_layers", e.n_layers, 1, 128);
  changed |= slider("n_heads", e.n_heads, 1, 128);
  changed |= slider("n_kv_heads", e.n_kv_heads, 1, e.n_heads, false,
                    "must divide n_heads: equal = MHA, 1 = MQA, between = GQA");
  changed |= slider("head_dim", e.head_dim, 8, 512, true);
  changed |= slider("d_model", e.d_model, 64, 16384, true);
  changed |= slider("global_every", e.global_every, 0, std::max(e.n_layers, 1), false,
                    "every k-th layer attends globally; 0 = none");
  const core::Dtype dtypes[] = {core::Dtype::FP32, core::Dtype::FP16, core::Dtype::BF16,
                                core::Dtype::FP8};
  changed |= combo("dtype", e.dtype, dtypes, core::dtype_name);
  changed |= slider("batch", e.batch, 1, 256, true);
}

void mask_section(AppState& s, bool& changed) {
  core::Scene& e = s.editor.edit;
  const int old_len = e.seq_len;
  if (slider("seq_len", e.seq_len, 1, core::kMaxSeqLen, true)) {
    changed = true;
    // A query on the last position stays on the last position (it is the usual choice and
    // otherwise every shorter length would be rejected); any other query is checked as is.
    if (e.query == old_len - 1) e.query = std::max(e.seq_len - 1, 0);
  }
  const attn::MaskKind kinds[] = {attn::MaskKind::Causal, attn::MaskKind::SlidingWindow,
                                  attn::MaskKind::Chunked, attn::MaskKind::BlockDiagonal,
                                  attn::MaskKind::Sparse};
  changed |= combo("mask", e.mask, kinds, core::mask_kind_name);
  changed |= slider("window", e.window, 0, std::max(e.seq_len, 2), true,
                    "0 = no window. The one window: the mask views and, with a sliding-window "
                    "mask, the live model (unless 'model's own windows' is ticked)");
  const attn::WindowConvention convs[] = {attn::WindowConvention::IncludingSelf,
                                          attn::WindowConvention::SelfPlusPrevious};
  changed |= combo("convention", e.window_convention, convs, core::window_convention_name);
  changed |=
      slider("chunk", e.chunk, 0, std::max(e.seq_len, 2), true, "prefill chunk C; 0 = one chunk");
  if (ImGui::InputText("segments", &s.editor.segments_text)) {
    std::string err;
    if (parse_segments(s.editor.segments_text, e.segments, err)) {
      changed = true;
    } else {
      s.editor.edit_error = err;
    }
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("packed prompt lengths, e.g. 24, 16, 24");
  if (e.mask == attn::MaskKind::Sparse &&
      ImGui::TreeNodeEx("sparse", ImGuiTreeNodeFlags_DefaultOpen)) {
    changed |= slider("global", e.sparse.global, 0, std::max(e.seq_len, 2), true);
    changed |= slider("local", e.sparse.local, 0, std::max(e.seq_len, 2), true);
    changed |= slider("random", e.sparse.random, 0, 64);
    int seed = static_cast<int>(e.sparse.seed & 0x7fffffff);
    if (ImGui::InputInt("seed", &seed)) {
      e.sparse.seed = static_cast<uint32_t>(std::max(seed, 0));
      changed = true;
    }
    ImGui::TreePop();
  }
}

void cursor_section(AppState& s, bool& changed) {
  core::Scene& e = s.editor.edit;
  changed |= slider("query", e.query, 0, std::max(e.seq_len - 1, 1), false,
                    "query position of the receptive field and the mask highlight");
  changed |= slider("step", e.step, 0, std::max(2 * e.seq_len, 2), false,
                    "tokens written to the rolling buffer so far");
}

// FlashAttention: FA1 or FA2 (flash.version) and the on-chip memory the tiles come from.
void flash_section(AppState& s, bool& changed) {
  core::Scene& e = s.editor.edit;
  ImGui::TextUnformatted("loop order");
  ImGui::SameLine();
  changed |= ImGui::RadioButton("FA1", &e.flash.version, 1);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("outer loop over K/V tiles; one block per head");
  ImGui::SameLine();
  changed |= ImGui::RadioButton("FA2", &e.flash.version, 2);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("outer loop over Q row blocks; one thread block per row block");
  int kib = static_cast<int>(e.flash.sram_bytes / 1024);
  if (slider("SRAM KiB", kib, 1, 16384, true, "on-chip memory per SM: Br x Bc come from it")) {
    e.flash.sram_bytes = kib * 1024;
    changed = true;
  }
  if (ImGui::SmallButton("A100 192 KiB")) {
    e.flash.sram_bytes = static_cast<int>(core::kSramA100);
    changed = true;
  }
  ImGui::SameLine();
  if (ImGui::SmallButton("H100 228 KiB")) {
    e.flash.sram_bytes = static_cast<int>(core::kSramH100);
    changed = true;
  }
}

void look_section(AppState& s, bool& changed) {
  core::Scene& e = s.editor.edit;
  changed |= string_combo("theme", e.theme, {"dark", "light"});
  changed |= string_combo("colormap", e.colormap, {"viridis", "cividis"});
  changed |= ImGui::Checkbox("log scale", &e.log_scale);
  changed |= ImGui::InputText("title", &e.title);
  changed |= ImGui::InputText("caption", &e.caption);
  bool grid = s.layout == Layout::Grid;
  if (ImGui::Checkbox("tile all views", &grid)) s.layout = grid ? Layout::Grid : Layout::Single;
}

void draw_controls(AppState& s) {
  bool changed = false;
  ImGui::PushItemWidth(-ImGui::GetFontSize() * 6.5f);
  if (ImGui::CollapsingHeader("Model", ImGuiTreeNodeFlags_DefaultOpen))
    architecture_section(s, changed);
  if (ImGui::CollapsingHeader("Mask", ImGuiTreeNodeFlags_DefaultOpen)) mask_section(s, changed);
  if (ImGui::CollapsingHeader("Cursor", ImGuiTreeNodeFlags_DefaultOpen)) cursor_section(s, changed);
  if (ImGui::CollapsingHeader("FlashAttention")) flash_section(s, changed);
  if (ImGui::CollapsingHeader("Live model", ImGuiTreeNodeFlags_DefaultOpen)) {
    ImGui::PopItemWidth();
    ImGui::PushItemWidth(-ImGui::GetFontSize() * 4.5f);
    draw_run_controls(s);  // applies its own edits (model, prompt, K/V heads)
  }
  if (ImGui::CollapsingHeader("Display")) look_section(s, changed);
  if (ImGui::CollapsingHeader("Scene file", ImGuiTreeNodeFlags_DefaultOpen)) draw_scene_io(s);
  ImGui::PopItemWidth();
  if (changed) apply_edit(s);
  if (!s.editor.edit_error.empty()) {
    ImGui::Separator();
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.95f, 0.35f, 0.3f, 1));
    ImGui::TextWrapped("Not applied: %s", s.editor.edit_error.c_str());
    ImGui::PopStyleColor();
    if (ImGui::Button("Revert to last valid")) set_scene(s, s.editor.scene);
  }
}

}  // namespace

Panel panel_controls() {
  Panel p;
  p.id = "controls";
  p.title = "Controls";
  p.sidebar = true;
  p.draw = draw_controls;
  return p;
}

}  // namespace app
