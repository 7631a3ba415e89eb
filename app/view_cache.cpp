#include "app/view_cache.h"

#include <chrono>

#include "app/app_state.h"

namespace app {

core::Scene titled_for(const core::Scene& scene, const std::string& view_id) {
  if (scene.view == view_id) return scene;
  core::Scene s = scene;
  s.title.clear();
  s.caption.clear();
  return s;
}

fig::ViewInput view_input(const AppState& s, const fig::ViewEntry& e, const core::Scene& scene) {
  fig::ViewInput in{scene};
  if (e.live) {
    in.live = s.session.live_result().get();
    in.options = s.live.options;
  } else if (e.uses_live) {
    if (s.session.live_started()) in.live = s.session.live_result().get();
    in.options = s.live.options;
  }
  return in;
}

ViewCache& cached_view(AppState& s, const fig::ViewEntry& e, fig::FigureSize size,
                       const fig::Theme& theme) {
  ViewCache& c = s.caches.by_view[e.id];
  const uint64_t data_rev = s.session.revision(e.parts);
  const uint64_t figure_rev = s.session.revision(e.parts | core::kLook);
  const std::string key = theme.name + "/" + std::to_string(static_cast<int>(size.width)) + "x" +
                          std::to_string(static_cast<int>(size.height));
  if (c.data_rev == data_rev && c.figure_rev == figure_rev && c.layout_key == key) return c;
  // Something changed: only now build the scene the view draws.
  const core::Scene scene = titled_for(s.session.scene(), e.id);
  const fig::ViewInput in = view_input(s, e, scene);
  if (c.data_rev != data_rev) {
    c.data = e.build_data(in);
    c.data_rev = data_rev;
    ++s.caches.data_builds;
  }
  const auto t0 = std::chrono::steady_clock::now();
  c.figure = e.build_figure(c.data, in, theme, size);
  s.caches.figure_build_ms.push_back(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  c.figure_rev = figure_rev;
  c.layout_key = key;
  c.version = ++s.caches.counter;
  return c;
}

}  // namespace app
