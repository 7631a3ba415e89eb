#include "core/figure/view_registry.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "core/figure/figure_systems.h"
#include "core/session/live_capture.h"
#include "core/session/session.h"
#include "core/views/live_attention.h"
#include "core/views/live_groups.h"
#include "core/views/live_memory.h"
#include "core/views/live_ring.h"
#include "core/views/live_rollout.h"

namespace fig {
namespace {

using core::kArchitecture;
using core::kLook;

template <class D>
ViewData wrap(D d) {
  return {std::make_shared<const D>(std::move(d)), ""};
}

ViewData message(std::string m) {
  return {nullptr, std::move(m)};
}

// An analytic view: data and figure from the scene alone.
template <class D>
ViewEntry analytic(std::string id, std::string title, D (*data)(const core::Scene&),
                   Figure (*figure)(const D&, const core::Scene&, const Theme&, FigureSize),
                   std::string (*describe)(const D&, const core::Scene&, int, int, int)) {
  ViewEntry e;
  e.id = std::move(id);
  e.title = std::move(title);
  e.parts = kArchitecture;
  e.build_data = [data](const ViewInput& in) { return wrap(data(in.scene)); };
  e.build_figure = [figure](const ViewData& d, const ViewInput& in, const Theme& t,
                            FigureSize size) {
    return figure(*view_data<D>(d), in.scene, t, size);
  };
  if (describe)
    e.describe = [describe](const ViewData& d, const ViewInput& in, int id, int row, int col) {
      return describe(*view_data<D>(d), in.scene, id, row, col);
    };
  return e;
}

// A live view: data from the model's result (or why there is none yet), figure from data.
template <class D>
ViewEntry live(std::string id, std::string title, unsigned parts,
               ViewData (*data)(const ViewInput&, const core::LiveResult&),
               Figure (*figure)(const D&, const ViewInput&, const Theme&)) {
  ViewEntry e;
  e.id = std::move(id);
  e.title = std::move(title);
  e.live = true;
  e.parts = parts | core::kLiveResult;  // the run reaches the view through the result
  e.build_data = [data](const ViewInput& in) -> ViewData {
    const core::LiveResult& r = *in.live;
    if (!r.config) return message(r.error.empty() ? "loading the model..." : r.error);
    if (std::string bad = core::check_against_model(in.scene, *r.config); !bad.empty())
      return message(bad);
    return data(in, r);
  };
  e.build_figure = [figure, title = e.title](const ViewData& d, const ViewInput& in, const Theme& t,
                                             FigureSize) {
    if (!d.data) return figure_live_placeholder(title, d.message, t);
    return figure(*view_data<D>(d), in, t);
  };
  return e;
}

// --- hover descriptions of the analytic views ---
std::string describe_mask(const core::MaskGrid& g, const core::Scene& s, int id, int row, int col) {
  return id == kMaskHeatmapId ? core::describe_mask_grid_cell(s, g, row, col) : "";
}
std::string describe_reach(const core::ReceptiveField& rf, const core::Scene&, int id, int row,
                           int col) {
  return id == kReachHeatmapId ? core::describe_reach_cell(rf, row, col) : "";
}
std::string describe_ring(const core::RingState& r, const core::Scene& s, int id, int row,
                          int col) {
  if (id == kRingSlotsHeatmapId) return core::describe_ring_slot(r, col);
  if (id == kRingChunkMaskHeatmapId)
    return core::describe_ring_chunk_cell(s, r.chunk_mask, row, col);
  return "";
}
std::string describe_flash(const core::FlashView& v, const core::Scene&, int id, int row, int) {
  return id == kFlashTileHoverId ? core::describe_flash_tile(v.tiling.grid, row) : "";
}
std::string describe_paged(const core::PagedView& v, const core::Scene&, int id, int row, int col) {
  if (id == kPagedTableHoverId) return core::describe_paged_logical(v, row, col);
  if (id == kPagedPoolHoverId) return core::describe_paged_physical(v, row);
  return "";
}
std::string describe_mla(const core::MlaCosts& c, const core::Scene& s, int id, int row, int) {
  return id == kMlaHoverId ? core::describe_mla_item(c, row, s.d_model) : "";
}
core::FlashView flash_data(const core::Scene& s) {
  return core::build_flash_view(s);
}
Figure flash_figure(const core::FlashView& v, const core::Scene& s, const Theme& t,
                    FigureSize size) {
  return figure_flash(v, s, t, size);
}
core::MaskGrid mask_data(const core::Scene& s) {
  return core::build_mask_grid(s);
}
core::ReceptiveField reach_data(const core::Scene& s) {
  return core::build_receptive_field(s);
}
core::KvMemorySeries kv_memory_data(const core::Scene& s) {
  return core::build_kv_memory(s);
}

// --- the live views' data ---
// The pass the attention view shows: the one in flight (layers done so far) when it is for
// another prompt or setting than the finished one, else the finished one (a draft stays on
// screen while its exact pass runs).
const core::LivePass* shown_attention_pass(const core::LiveResult& r) {
  const core::LivePass* p = r.partial.get();
  if (p && (!r.pass || p->tokens != r.pass->tokens || !(p->variant == r.pass->variant))) return p;
  return r.pass.get();
}

ViewData live_attention_data(const ViewInput& in, const core::LiveResult& r) {
  const core::LivePass* pass = shown_attention_pass(r);
  if (!pass) return message("running the forward pass...");
  core::LiveAttentionOptions ao;
  ao.layer = in.scene.layer;
  ao.head = in.scene.head;
  ao.aggregate = in.options.aggregate;
  ao.difference = in.options.difference && r.diff_thumbs;
  ao.thumb_cells = in.options.thumb_cells;
  if (pass != r.pass.get()) ao.difference = false;  // diff thumbs are of the finished pass
  ao.thumbs = ao.difference ? r.diff_thumbs.get() : pass->thumbs.get();
  core::LiveAttention a = core::build_live_attention(*pass, r.native.get(), *r.config, ao);
  if (pass == r.pass.get()) a.sparse = core::build_live_sparse(r);  // of the finished pass
  return wrap(std::move(a));
}
ViewData live_rollout_data(const ViewInput& in, const core::LiveResult& r) {
  if (!r.pass) return message("running the forward pass...");
  if (r.pass->focus_layer >= 0 && !r.pass->capture->find(0, core::kLayerMean))
    return message("the rollout follows with the exact pass (a long draft keeps no layer means)");
  return wrap(core::build_live_rollout(*r.pass, *r.config, in.scene.query));
}
ViewData live_ring_data(const ViewInput& in, const core::LiveResult& r) {
  if (!r.generation || r.generation->steps.empty())
    return message("press Step or Play to generate token by token");
  return wrap(core::build_live_ring(*r.generation, in.options.ring_step, in.scene.layer));
}
ViewData live_groups_data(const ViewInput& in, const core::LiveResult& r) {
  if (!r.pass) return message("running the forward pass...");
  return wrap(core::build_live_groups(r, in.scene.layer));
}
ViewData live_memory_data(const ViewInput&, const core::LiveResult& r) {
  return wrap(core::build_live_memory(r));
}

Figure live_attention_figure(const core::LiveAttention& a, const ViewInput& in, const Theme& t) {
  return figure_live_attention(a, in.scene, *in.live, t);
}
Figure live_rollout_figure(const core::LiveRollout& d, const ViewInput& in, const Theme& t) {
  return figure_live_rollout(d, in.scene, t);
}
Figure live_ring_figure(const core::LiveRing& d, const ViewInput& in, const Theme& t) {
  return figure_live_ring(d, in.scene, t);
}
Figure live_groups_figure(const core::LiveGroups& d, const ViewInput& in, const Theme& t) {
  return figure_live_groups(d, in.scene, t);
}
Figure live_memory_figure(const core::LiveMemory& d, const ViewInput& in, const Theme& t) {
  return figure_live_memory(d, in.scene, t);
}

std::vector<ViewEntry> make_views() {
  std::vector<ViewEntry> v = {
      analytic<core::MaskGrid>("mask", "Attention mask", mask_data, figure_mask, describe_mask),
      analytic<core::ReceptiveField>("receptive_field", "Receptive field across layers", reach_data,
                                     figure_receptive_field, describe_reach),
      analytic<core::RingState>("ring", "Rolling-buffer KV cache", core::build_ring_state,
                                figure_ring, describe_ring),
      analytic<core::HeadGroups>("groups", "Grouped-query attention: head groups",
                                 core::build_head_groups, figure_groups, nullptr),
      analytic<core::KvMemorySeries>("kv_memory", "KV-cache memory", kv_memory_data,
                                     figure_kv_memory, nullptr),
      analytic<core::FlashView>("flash", kFlashTitle, flash_data, flash_figure, describe_flash),
      analytic<core::PagedView>("paged", kPagedTitle, core::build_paged_view, figure_paged,
                                describe_paged),
      analytic<core::MlaCosts>("mla", kMlaTitle, core::build_mla_costs, figure_mla, describe_mla),
      analytic<core::SparsePatterns>("sparse", kSparseTitle, core::build_sparse_patterns,
                                     figure_sparse, describe_sparse_cell),
      live<core::LiveAttention>("live_attention", "Live attention", kLook, live_attention_data,
                                live_attention_figure),
      live<core::LiveRollout>("live_rollout",
                              "Measured influence (attention rollout) vs theoretical reach",
                              kArchitecture, live_rollout_data, live_rollout_figure),
      live<core::LiveRing>("live_ring", "Rolling-buffer KV cache during generation", kLook,
                           live_ring_data, live_ring_figure),
      live<core::LiveGroups>("live_groups", "Grouped-query attention on the real model", kLook,
                             live_groups_data, live_groups_figure),
      live<core::LiveMemory>("live_memory", "KV-cache memory and speed, measured", 0,
                             live_memory_data, live_memory_figure),
  };
  for (ViewEntry& e : v) {
    if (e.id == "live_attention")
      e.describe = [](const ViewData& d, const ViewInput&, int id, int row, int col) {
        const auto* a = view_data<core::LiveAttention>(d);
        return a && id == kLiveAttentionHeatmapId ? core::describe_live_attention_cell(*a, row, col)
                                                  : std::string();
      };
    if (e.id == "flash") {
      // The trace runs on the model's Q, K, V of the scene's layer and head once captured.
      e.uses_live = true;
      e.parts |= kLook | core::kLiveResult;
      e.build_data = [](const ViewInput& in) {
        return wrap(core::build_flash_view(in.scene, in.live));
      };
      e.build_figure = [](const ViewData& d, const ViewInput& in, const Theme& t, FigureSize size) {
        return figure_flash(*view_data<core::FlashView>(d), in.scene, t, size,
                            in.options.flash_step);
      };
    }
  }
  return v;
}

}  // namespace

const std::vector<ViewEntry>& view_entries() {
  static const std::vector<ViewEntry> kViews = make_views();
  return kViews;
}

const ViewEntry* find_view(std::string_view id) {
  for (const ViewEntry& e : view_entries())
    if (e.id == id) return &e;
  return nullptr;
}

std::vector<const ViewEntry*> analytic_views() {
  std::vector<const ViewEntry*> v;
  for (const ViewEntry& e : view_entries())
    if (!e.live) v.push_back(&e);
  return v;
}

const char* view_title(std::string_view id) {
  const ViewEntry* e = find_view(id);
  return e ? e->title.c_str() : "";
}

std::string view_id_list() {
  std::string s;
  for (const ViewEntry& e : view_entries()) s += (s.empty() ? "" : ", ") + e.id;
  return s;
}

Figure build_figure(const ViewEntry& e, const ViewInput& in, const Theme& t, FigureSize size) {
  return e.build_figure(e.build_data(in), in, t, size);
}

Figure build_view_figure(const ViewEntry& e, const core::Scene& s, const Theme& t,
                         FigureSize size) {
  if (e.live) throw std::invalid_argument("view '" + e.id + "' needs the live model");
  return build_figure(e, ViewInput{s}, t, size);
}

Figure build_view_figure(std::string_view id, const core::Scene& s, const Theme& t,
                         FigureSize size) {
  const ViewEntry* e = find_view(id);
  if (!e) throw std::invalid_argument("unknown view '" + std::string(id) + "'");
  return build_view_figure(*e, s, t, size);
}

}  // namespace fig
