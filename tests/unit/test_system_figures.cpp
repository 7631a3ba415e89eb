// The efficient-attention figures (flash, paged, mla, sparse): every theme and a spread of
// scenes, including a 131,072-token one, build a figure whose text stays on the page (the
// exporter's own text metrics) and that renders as PNG, SVG and PDF.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/export/export.h"
#include "core/figure/figure_systems.h"
#include "core/scene/presets.h"

namespace {

std::vector<core::Scene> scenes() {
  std::vector<core::Scene> out;
  out.push_back(core::Scene());
  core::Scene d;
  core::apply_preset(d, "DeepSeek-V2");
  d.seq_len = 4096;
  d.query = 4000;
  d.dtype = core::Dtype::BF16;
  d.paged.sequences = {700, 1200, 300};
  d.paged.prefix = 250;
  out.push_back(d);
  core::Scene g;
  core::apply_preset(g, "Gemma-3-270M");
  g.seq_len = 2048;
  g.query = 2000;
  g.chunk = 300;
  g.mask = attn::MaskKind::Chunked;
  g.flash.version = 1;
  g.flash.sram_bytes = 233472;
  out.push_back(g);
  core::Scene b;
  core::apply_preset(b, "SmolLM2-135M");
  b.mask = attn::MaskKind::BlockDiagonal;
  b.segments = {12, 30, 9};
  b.seq_len = 51;
  b.query = 50;
  b.paged.block = 1;
  out.push_back(b);
  core::Scene big;
  core::apply_preset(big, "Mistral-7B");
  big.seq_len = 131072;
  big.query = 131071;
  big.paged.sequences = std::vector<int>(64, 4096);
  out.push_back(big);
  return out;
}

using Builder = std::function<fig::Figure(const core::Scene&, const fig::Theme&)>;

TEST(SystemFigures, EveryThemeEveryScene) {
  const std::vector<std::pair<const char*, Builder>> builders = {
      {"flash", [](const core::Scene& s, const fig::Theme& t) { return fig::figure_flash(s, t); }},
      {"paged", [](const core::Scene& s, const fig::Theme& t) { return fig::figure_paged(s, t); }},
      {"mla", [](const core::Scene& s, const fig::Theme& t) { return fig::figure_mla(s, t); }},
      {"sparse",
       [](const core::Scene& s, const fig::Theme& t) { return fig::figure_sparse(s, t); }}};
  int i = 0;
  for (const core::Scene& s : scenes()) {
    for (const std::string& tn : fig::theme_names())
      for (const auto& [name, build] : builders) {
        SCOPED_TRACE(std::string(name) + " scene " + std::to_string(i) + " theme " + tn);
        const fig::Figure f = build(s, fig::theme_by_name(tn));
        EXPECT_GT(f.marks.size(), 5u);
        EXPECT_FALSE(f.title.empty());
        for (const core::exp::TextOverflow& o : core::exp::texts_outside(f))
          ADD_FAILURE() << "text leaves the figure: " << o.text << " (" << o.x0 << ", " << o.y0
                        << ")-(" << o.x1 << ", " << o.y1 << ")";
        if (tn == "light") {
          for (core::exp::Format fmt :
               {core::exp::Format::Png, core::exp::Format::Svg, core::exp::Format::Pdf}) {
            core::exp::ExportOptions o;
            o.format = fmt;
            EXPECT_GT(core::exp::render_figure(f, o).size(), 1000u) << core::exp::format_name(fmt);
          }
        }
      }
    ++i;
  }
}

}  // namespace
