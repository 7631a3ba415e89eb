// Frame timing for --frame-stats: CPU time to build the UI (NewFrame .. Render) and to render
// it (RenderDrawData + glFinish), one sample per frame.
#pragma once

#include <string>
#include <vector>

namespace app {

struct FrameStats {
  std::vector<double> ui_ms;
  std::vector<double> render_ms;
  std::vector<double> figure_build_ms;  // view figures rebuilt (scene changes), any frame
  std::vector<double> render_cpu_ms;    // process CPU time of the render (all GL threads)
};

// "figure builds: N, median X ms, max Y ms\n" (when any), "render cpu: ..." (when
// sampled; on a loaded machine it is the part of the wall time that is our own work), then
// "ui build: median X ms, p95 Y ms\nrender: median X ms, p95 Y ms\n", skipping the first
// `warmup` frames (font atlas, first figure builds) when enough frames remain.
std::string frame_stats_report(const FrameStats& s, int warmup = 2);

}  // namespace app
