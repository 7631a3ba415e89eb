// The view registry: every view of the app, analytic and live, is one entry with its id, its
// title, the scene parts its data reads, a data builder (core/views), a figure builder
// (figure_<view>.cpp) and a hover description. The app keeps one cache keyed by view and
// revision (Session::revision(entry.parts)); the exporter and the presentation build through
// the same entries. Adding a view: its data file, its figure file, one line in kViews
// (view_registry.cpp) and its test.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/figure/figure.h"
#include "core/figure/live_views.h"
#include "core/figure/theme.h"
#include "core/figure/views.h"
#include "core/scene/scene.h"
#include "core/session/live_result.h"

namespace fig {

// What a view's builders read: the scene, the live model's result (live views: never null;
// uses_live views: null when no model runs) and the options the scene does not carry.
struct ViewInput {
  const core::Scene& scene;
  const core::LiveResult* live = nullptr;
  LiveViewOptions options = {};
};

// A view's data: what its figure and its hover text are built from, or a message saying why
// there is nothing to show yet (live views before the model ran, a layer the model lacks).
struct ViewData {
  std::shared_ptr<const void> data;  // the entry's own type (see make_entry)
  std::string message;
};

struct ViewEntry {
  std::string id;     // "mask"; scene.view, --view and export file names use it
  std::string title;  // tab and figure title
  bool live = false;  // reads the live model
  // An analytic view that also uses the live model's result when one is there (the flash
  // view's trace); it never starts the model and draws without it.
  bool uses_live = false;
  // core::ScenePart bits the data reads (live views: kLiveResult, through which the run part
  // reaches them); the figure also reads the look.
  unsigned parts = 0;
  std::function<ViewData(const ViewInput&)> build_data;
  std::function<Figure(const ViewData&, const ViewInput&, const Theme&, FigureSize)> build_figure;
  // Hover text of cell (row, col) of heatmap `heatmap_id`; "" = nothing to say.
  std::function<std::string(const ViewData&, const ViewInput&, int heatmap_id, int row, int col)>
      describe;
};

// Every view in display order: the analytic views, then the live ones.
const std::vector<ViewEntry>& view_entries();
const ViewEntry* find_view(std::string_view id);
std::vector<const ViewEntry*> analytic_views();
const char* view_title(std::string_view id);  // "" for an unknown id
std::string view_id_list();                   // "mask, receptive_field, ..., live_memory"

// Data then figure in one go (export, presentation, tests).
Figure build_figure(const ViewEntry& e, const ViewInput& in, const Theme& t, FigureSize size = {});
// An analytic view's figure from the scene alone.
Figure build_view_figure(const ViewEntry& e, const core::Scene& s, const Theme& t,
                         FigureSize size = {});
// The same by id; throws std::invalid_argument for an unknown or live id.
Figure build_view_figure(std::string_view id, const core::Scene& s, const Theme& t,
                         FigureSize size = {});

// The typed data of an entry's ViewData (null when it holds a message instead).
template <class D>
const D* view_data(const ViewData& d) {
  return static_cast<const D*>(d.data.get());
}

}  // namespace fig
