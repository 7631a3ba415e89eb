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
      {"flash",
       [](const core::Scene& s, const fig::Theme& t) {
         return fig::figure_flash(core::build_flash_view(s), s, t);
       }},
      {"paged",
       [](const core::Scene& s, const fig::Theme& t) {
         return fig::figure_paged(core::build_paged_view(s), s, t);
       }},
      {"mla", [](const core::Scene& s,
                 const fig::Theme& t) { return fig::figure_mla(core::build_mla_costs(s), s, t); }},
      {"sparse", [](const core::Scene& s, const fig::Theme& t) {
         return fig::figure_sparse(core::build_sparse_patterns(s), s, t);
       }}};
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

// The sparse figure's masks are heatmaps whose cells hover like the mask view's.
TEST(SystemFigures, SparseHoverNamesThePair) {
  core::Scene s;
  s.seq_len = 64;
  s.query = 63;
  const core::SparsePatterns p = core::build_sparse_patterns(s);
  const fig::Figure f = fig::figure_sparse(p, s, fig::theme_dark());
  ASSERT_NE(fig::find_heatmap(f, fig::kSparseBigBirdHeatmapId), nullptr);
  const std::string d = fig::describe_sparse_cell(p, s, fig::kSparseBigBirdHeatmapId, 40, 2);
  EXPECT_NE(d.find("q=40"), std::string::npos) << d;
  EXPECT_EQ(fig::describe_sparse_cell(p, s, 999, 0, 0), "");
}

}  // namespace
