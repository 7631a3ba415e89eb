#include "core/figure/live_views.h"

#include <cmath>

#include "core/figure/decorate.h"

namespace fig {

const std::vector<LiveViewId>& live_view_ids() {
  static const std::vector<LiveViewId> kIds = {LiveViewId::Attention, LiveViewId::Rollout,
                                               LiveViewId::Ring, LiveViewId::Groups,
                                               LiveViewId::Memory};
  return kIds;
}

const char* live_view_name(LiveViewId id) {
  switch (id) {
    case LiveViewId::Attention:
      return "live_attention";
    case LiveViewId::Rollout:
      return "live_rollout";
    case LiveViewId::Ring:
      return "live_ring";
    case LiveViewId::Groups:
      return "live_groups";
    case LiveViewId::Memory:
      return "live_memory";
  }
  return "live_attention";
}

const char* live_view_title(LiveViewId id) {
  switch (id) {
    case LiveViewId::Attention:
      return "Live attention";
    case LiveViewId::Rollout:
      return "Measured influence (attention rollout) vs theoretical reach";
    case LiveViewId::Ring:
      return "Rolling-buffer KV cache during generation";
    case LiveViewId::Groups:
      return "Grouped-query attention on the real model";
    case LiveViewId::Memory:
      return "KV-cache memory and speed, measured";
  }
  return "";
}

std::optional<LiveViewId> parse_live_view(std::string_view name) {
  for (LiveViewId id : live_view_ids())
    if (name == live_view_name(id)) return id;
  return std::nullopt;
}

Figure figure_live_placeholder(LiveViewId id, const std::string& message, const Theme& t) {
  Figure f = make_figure(t, kLiveFigureWidth, kLiveFigureHeight);
  f.title = live_view_title(id);
  const Layout l = plan_layout(f, t, LayoutRequest{});
  Text m = text_mark(t, l.plot.x + l.plot.w / 2, l.plot.y + l.plot.h / 2, message, t.font_size,
                     Anchor::Center);
  m.color = t.muted;
  f.marks.push_back(m);
  decorate(f, t, l, {});
  return f;
}

Figure build_live_figure(LiveViewId id, const core::Scene& s, const core::LiveResult& r,
                         const Theme& t, const LiveViewOptions& o) {
  if (!r.config)
    return figure_live_placeholder(id, r.error.empty() ? "loading the model..." : r.error, t);
  const core::model::Config& c = *r.config;
  if (id == LiveViewId::Memory) return figure_live_memory(core::build_live_memory(r), s, t);
  if (id == LiveViewId::Ring) {
    if (!r.generation || r.generation->steps.empty())
      return figure_live_placeholder(id, "press Step or Play to generate token by token", t);
    return figure_live_ring(core::build_live_ring(*r.generation, o.ring_step, s.layer), s, t);
  }
  if (!r.pass) return figure_live_placeholder(id, "running the forward pass...", t);
  switch (id) {
    case LiveViewId::Attention: {
      core::LiveAttentionOptions ao;
      ao.layer = s.layer;
      ao.head = s.head;
      ao.aggregate = o.aggregate;
      ao.difference = o.difference;
      ao.thumb_cells = o.thumb_cells;
      ao.thumbs = ao.difference ? r.diff_thumbs.get() : r.pass->thumbs.get();
      return figure_live_attention(core::build_live_attention(*r.pass, r.native.get(), c, ao), s, r,
                                   t);
    }
    case LiveViewId::Rollout:
      return figure_live_rollout(core::build_live_rollout(*r.pass, c, s.query), s, t);
    case LiveViewId::Groups:
      return figure_live_groups(core::build_live_groups(r, s.layer), s, t);
    default:
      break;
  }
  return figure_live_placeholder(id, "", t);
}

}  // namespace fig
