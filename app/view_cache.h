// The app's one view cache, keyed by view id and the session's revision of the parts that
// view reads: the data (what hover describes) is rebuilt only when its parts changed, the
// figure when the data, the look or the panel size changed. Analytic and live views alike.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "app/figure_draw.h"
#include "core/figure/view_registry.h"

namespace app {

struct AppState;

struct ViewCache {
  uint64_t data_rev = 0;  // Session::revision(entry.parts) of `data`; 0 = never built
  fig::ViewData data;
  uint64_t figure_rev = 0;  // Session::revision(entry.parts | kLook) of `figure`
  std::string layout_key;   // theme and size the figure was laid out for
  fig::Figure figure;
  uint64_t version = 0;  // unique per figure build, so textures re-upload exactly then
  FigureCanvas canvas;   // where it was drawn last frame
};

struct ViewCaches {
  std::map<std::string, ViewCache> by_view;
  uint64_t counter = 0;
  std::vector<double> figure_build_ms;  // one entry per figure build (--frame-stats)
  int data_builds = 0;                  // view data builds so far (--print-status)
};

// What the entry's builders read in this app state: the session's scene (titled for the view)
// and, for live views, the session's live result and the panels' options.
fig::ViewInput view_input(const AppState& s, const fig::ViewEntry& e, const core::Scene& scene);

// The scene a view draws: the scene's title and caption belong to its own view only.
core::Scene titled_for(const core::Scene& scene, const std::string& view_id);

// The cached data and figure of `e`, laid out at `size` in `theme`; rebuilt only what changed.
ViewCache& cached_view(AppState& s, const fig::ViewEntry& e, fig::FigureSize size,
                       const fig::Theme& theme);

}  // namespace app
