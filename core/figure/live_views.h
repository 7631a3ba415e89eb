// Figure builders of the live views (part 3): each turns its view data, built from the live
// session's result, into the Figure that both the app and the exporter draw. Options the
// Scene does not carry (aggregate, difference, ring step) come in LiveViewOptions. The list
// of views is the registry (view_registry.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/figure/figure.h"
#include "core/figure/theme.h"
#include "core/scene/scene.h"
#include "core/session/live_result.h"
#include "core/views/live_attention.h"
#include "core/views/live_groups.h"
#include "core/views/live_memory.h"
#include "core/views/live_ring.h"
#include "core/views/live_rollout.h"

namespace fig {

struct LiveViewOptions {
  core::LiveAggregate aggregate = core::LiveAggregate::Head;
  bool difference = false;  // attention: this setting minus native
  int ring_step = -1;       // ring: which generation step, -1 = the last
  int thumb_cells = core::kLiveThumbCells;
  int flash_step = -1;  // flash: the trace's key tile to show in detail, -1 = none
};

inline constexpr float kLiveFigureWidth = 1200;
inline constexpr float kLiveFigureHeight = 760;

// A figure that says why there is nothing to show yet (no model, no pass, no generation).
Figure figure_live_placeholder(const std::string& title, const std::string& message,
                               const Theme& t);

// Per-view builders from the view data (one file each: figure_live_<view>.cpp).
Figure figure_live_attention(const core::LiveAttention& a, const core::Scene& s,
                             const core::LiveResult& r, const Theme& t);
Figure figure_live_rollout(const core::LiveRollout& ro, const core::Scene& s, const Theme& t);
Figure figure_live_ring(const core::LiveRing& ring, const core::Scene& s, const Theme& t);
Figure figure_live_groups(const core::LiveGroups& g, const core::Scene& s, const Theme& t);
Figure figure_live_memory(const core::LiveMemory& m, const core::Scene& s, const Theme& t);

// Heatmap ids, so the app can map a hovered pixel back to what it shows.
inline constexpr int kLiveThumbsHeatmapId = 20;     // mosaic: (layer*(thumb+1)+r, head*(thumb+1)+c)
inline constexpr int kLiveAttentionHeatmapId = 21;  // (query, key) of LiveAttention::values
inline constexpr int kLiveRolloutHeatmapId = 22;    // (layer, position)
inline constexpr int kLiveGroupsHeatmapId = 30;     // + row*64 + head: one thumbnail per head

// The (layer, head) thumbnail under figure point (x, y) of a live attention figure.
struct ThumbHit {
  int layer = 0, head = 0;
  int q = 0, k = 0;  // token range start the hovered thumbnail cell covers
};
std::optional<ThumbHit> live_thumb_at(const Figure& f, const core::LiveAttention& a, float x,
                                      float y);

// Outlines of a token's row and column in every thumbnail and in the large map (hover).
std::vector<Mark> live_attention_highlight(const Figure& f, const core::LiveAttention& a, int token,
                                           const Theme& t);

}  // namespace fig
