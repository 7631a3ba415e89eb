// Export speed: a PDF of a 512x512 attention map (goal <= 300 ms), plus SVG and 4K PNG.
#include <benchmark/benchmark.h>

#include <cmath>

#include "core/export/export.h"
#include "core/figure/theme.h"
#include "core/figure/view_registry.h"
#include "core/scene/presets.h"

namespace {

// The mask view of Mistral-7B at 32k tokens: a 512x512 grid of visible fractions.
fig::Figure mask_figure_512() {
  core::Scene s;
  core::apply_preset(s, "Mistral-7B");
  s.seq_len = 32768;
  s.query = s.seq_len - 1;
  return fig::build_view_figure("mask", s, fig::theme_slides(), {1280, 720});
}

// The same figure with every cell a different value: the worst case for image compression.
fig::Figure noisy_figure_512() {
  fig::Figure f = mask_figure_512();
  for (fig::Mark& m : f.marks)
    if (auto* h = std::get_if<fig::Heatmap>(&m); h && h->id == fig::kMaskHeatmapId)
      for (size_t i = 0; i < h->values.size(); ++i)
        h->values[i] = 0.5f + 0.5f * std::sin(static_cast<float>(i) * 0.7548776662f);
  return f;
}

void run(benchmark::State& state, const fig::Figure& f, core::exp::Format fmt, float scale) {
  core::exp::ExportOptions o;
  o.format = fmt;
  o.scale = scale;
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string out = core::exp::render_figure(f, o);
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

void BM_ExportPdfMask512(benchmark::State& state) {
  run(state, mask_figure_512(), core::exp::Format::Pdf, 1);
}
void BM_ExportPdfNoisy512(benchmark::State& state) {
  run(state, noisy_figure_512(), core::exp::Format::Pdf, 1);
}
void BM_ExportSvgMask512(benchmark::State& state) {
  run(state, mask_figure_512(), core::exp::Format::Svg, 1);
}
void BM_ExportPng4kMask512(benchmark::State& state) {
  run(state, mask_figure_512(), core::exp::Format::Png, 3);  // 3840 x 2160
}
void BM_BuildAndExportPdfMask512(benchmark::State& state) {
  core::exp::ExportOptions o;
  o.format = core::exp::Format::Pdf;
  for (auto _ : state)
    benchmark::DoNotOptimize(core::exp::render_figure(mask_figure_512(), o).size());
}

BENCHMARK(BM_ExportPdfMask512)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ExportPdfNoisy512)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ExportSvgMask512)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ExportPng4kMask512)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BuildAndExportPdfMask512)->Unit(benchmark::kMillisecond);

}  // namespace
