// The cairo exporter: every view in every format, PDF vs PNG pixels, SVG structure,
// determinism, atomic writes and error handling.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>

#include "core/export/export.h"
#include "core/figure/colormap.h"
#include "core/figure/theme.h"
#include "core/figure/view_registry.h"
#include "core/scene/scene_json.h"
#include "export_test_util.h"

namespace {

using namespace export_test;
using core::exp::ExportError;
using core::exp::ExportOptions;
using core::exp::Format;

const Format kFormats[] = {Format::Png, Format::Svg, Format::Pdf};

core::Scene asset_scene(const std::string& name) {
  std::vector<std::string> warnings;
  return core::load_scene(std::string(ATTNLAB_ASSET_DIR) + "/scenes/" + name, warnings);
}

std::vector<std::string> asset_scene_names() {
  std::vector<std::string> names;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(ATTNLAB_ASSET_DIR) + "/scenes"))
    if (e.path().extension() == ".json") names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

ExportOptions opts(Format f, float scale = 1) {
  ExportOptions o;
  o.format = f;
  o.scale = scale;
  return o;
}

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

bool starts_with(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}

int png_width(const std::string& png) {  // IHDR width, big-endian at byte 16
  const auto* b = reinterpret_cast<const unsigned char*>(png.data());
  return (b[16] << 24) | (b[17] << 16) | (b[18] << 8) | b[19];
}

TEST(Export, FormatNames) {
  for (Format f : kFormats) EXPECT_EQ(core::exp::parse_format(core::exp::format_name(f)), f);
  EXPECT_FALSE(core::exp::parse_format("jpeg"));
  EXPECT_EQ(core::exp::format_from_path("a/b.SVG"), Format::Svg);
  EXPECT_EQ(core::exp::format_from_path("deck.pdf"), Format::Pdf);
  EXPECT_FALSE(core::exp::format_from_path("a.b/noext"));
}

TEST(Export, EveryViewInEveryFormat) {
  TempDir dir;
  const core::Scene scene = asset_scene("mistral_swa.json");
  for (const fig::Theme& theme : {fig::theme_slides(), fig::theme_dark()})
    for (const fig::ViewEntry* id : fig::analytic_views()) {
      const fig::Figure f = fig::build_view_figure(*id, scene, theme);
      for (Format fmt : kFormats) {
        SCOPED_TRACE(std::string(id->id) + "." + core::exp::format_name(fmt) + " " + theme.name);
        const std::string bytes = core::exp::render_figure(f, opts(fmt));
        if (fmt == Format::Png) {
          EXPECT_TRUE(starts_with(bytes, "\x89PNG\r\n"));
        }
        if (fmt == Format::Svg) {
          EXPECT_NE(bytes.find("<svg"), std::string::npos);
        }
        if (fmt == Format::Pdf) {
          EXPECT_TRUE(starts_with(bytes, "%PDF-"));
        }
        const std::string path = dir / (std::string(id->id) + "." + core::exp::format_name(fmt));
        core::exp::export_figure(f, path, opts(fmt));
        EXPECT_EQ(slurp(path), bytes);  // the file holds exactly what was rendered
      }
    }
  EXPECT_EQ(listing(dir.path).size(), fig::analytic_views().size() * 3);  // no temporaries left
}

TEST(Export, PngScaleReaches4k) {
  const fig::Figure f =
      fig::build_view_figure("mask", asset_scene("mistral_swa.json"), fig::theme_light());
  EXPECT_EQ(png_width(core::exp::render_figure(f, opts(Format::Png, 1))), 960);
  EXPECT_EQ(png_width(core::exp::render_figure(f, opts(Format::Png, 4))), 3840);
  EXPECT_THROW(core::exp::render_figure(f, opts(Format::Png, 0.5f)), ExportError);
  EXPECT_THROW(core::exp::render_figure(f, opts(Format::Png, 9)), ExportError);
  EXPECT_THROW(
      core::exp::render_figure(f, opts(Format::Png, std::numeric_limits<float>::quiet_NaN())),
      ExportError);
  ExportOptions half = opts(Format::Pdf);
  half.width = 800;  // a width without a height
  EXPECT_THROW(core::exp::render_figure(f, half), ExportError);
}

TEST(Export, SameBytesEveryTime) {
  const core::Scene scene = asset_scene("kv_memory_32k.json");
  for (const fig::ViewEntry* id : fig::analytic_views()) {
    const fig::Figure f = fig::build_view_figure(*id, scene, fig::theme_slides());
    for (Format fmt : kFormats) {
      SCOPED_TRACE(std::string(id->id) + "." + core::exp::format_name(fmt));
      EXPECT_EQ(core::exp::render_figure(f, opts(fmt)), core::exp::render_figure(f, opts(fmt)));
    }
  }
}

TEST(Export, PdfCarriesFixedMetadataAndNoCreationDate) {
  const fig::Figure f =
      fig::build_view_figure("ring", asset_scene("ring_chunked.json"), fig::theme_light());
  const std::string pdf = core::exp::render_figure(f, opts(Format::Pdf));
  EXPECT_EQ(pdf.find("/CreationDate"), std::string::npos);
  EXPECT_EQ(pdf.find("/ModDate"), std::string::npos);
  EXPECT_NE(pdf.find("/Creator (attnlab)"), std::string::npos);
}

// The PDF rasterised by poppler at 72 dpi (1 figure unit = 1 pt = 1 px) against cairo's PNG at
// scale 1, compared as means of 4x4 pixel blocks. Per pixel the two differ only along edges
// (poppler places and anti-aliases glyphs its own way: about 0.07 RMSE, all of it on glyph and
// box outlines); block means measured 0.026..0.031, so the bound is 0.04. A different view of
// the same scene is far above it, so the comparison can fail.
TEST(Export, PdfRasterisedMatchesPng) {
  // scripts/setup installs poppler-utils, so a missing pdftoppm is a broken set-up, not a skip.
  ASSERT_TRUE(have_tool("pdftoppm"))
      << "pdftoppm (poppler-utils) is not installed; run scripts/setup";
  constexpr double kMaxRmse = 0.04;
  TempDir dir;
  for (const std::string& name :
       {std::string("mistral_swa.json"), std::string("kv_memory_32k.json")}) {
    const core::Scene scene = asset_scene(name);
    Rgb previous;
    for (const fig::ViewEntry* id : fig::analytic_views()) {
      SCOPED_TRACE(name + " " + id->id);
      const fig::Figure f = fig::build_view_figure(*id, scene, fig::theme_slides(), {1280, 720});
      const Rgb png = box_downsample(decode_png(core::exp::render_figure(f, opts(Format::Png))), 4);
      spit(dir / "f.pdf", core::exp::render_figure(f, opts(Format::Pdf)));
      const RunResult r =
          run("pdftoppm -r 72 -png -singlefile " + (dir / "f.pdf") + " " + (dir / "r"));
      ASSERT_EQ(r.code, 0) << r.out;
      const Rgb raster = box_downsample(decode_png(slurp(dir / "r.png")), 4);
      ASSERT_EQ(raster.w, png.w);
      ASSERT_EQ(raster.h, png.h);
      const double e = rmse(png, raster);
      RecordProperty(std::string("rmse_") + id->id, std::to_string(e));
      EXPECT_LT(e, kMaxRmse);
      if (!previous.px.empty()) {
        EXPECT_GT(rmse(png, previous), 2 * kMaxRmse);
      }
      previous = png;
    }
  }
}

// Every heatmap is one embedded image with one pixel per cell in the cell's colour; every
// glyph of every text mark is drawn; the file is well-formed XML.
TEST(Export, SvgIsXmlAndHoldsEveryCell) {
  const bool xmllint = have_tool("xmllint");
  TempDir dir;
  for (const std::string& name : asset_scene_names()) {
    const core::Scene scene = asset_scene(name);
    for (const fig::ViewEntry* id : fig::analytic_views()) {
      SCOPED_TRACE(name + " " + id->id);
      const fig::Figure f = fig::build_view_figure(*id, scene, fig::theme_light());
      const std::string svg = core::exp::render_figure(f, opts(Format::Svg));
      if (xmllint) {
        spit(dir / "f.svg", svg);
        const RunResult r = run("xmllint --noout " + (dir / "f.svg"));
        EXPECT_EQ(r.code, 0) << r.out;
      }
      std::vector<const fig::Heatmap*> maps;
      size_t glyphs = 0;
      for (const fig::Mark& m : f.marks) {
        // What the renderer draws: a heatmap with no area (an empty ring) is skipped.
        if (const auto* h = std::get_if<fig::Heatmap>(&m);
            h && h->w > 0 && h->h > 0 && h->rows > 0 && h->cols > 0)
          maps.push_back(h);
        if (const auto* t = std::get_if<fig::Text>(&m))
          for (unsigned char c : t->text) glyphs += (c & 0xC0) != 0x80;
      }
      EXPECT_EQ(count_of(svg, "<use xlink:href=\"#glyph"), static_cast<int>(glyphs));
      ASSERT_EQ(count_of(svg, "<image "), static_cast<int>(maps.size()));
      // Images appear in drawing order; decode each and compare every cell.
      size_t pos = 0;
      for (const fig::Heatmap* h : maps) {
        pos = svg.find("<image ", pos);
        const size_t data = svg.find("base64,", pos) + 7;
        const size_t end = svg.find('"', data);
        pos = end;
        std::vector<unsigned char> alpha;
        const Rgb img = decode_png(base64_decode(svg.substr(data, end - data)), &alpha);
        ASSERT_EQ(img.w, h->cols);
        ASSERT_EQ(img.h, h->rows);
        int bad = 0;
        for (int r = 0; r < h->rows; ++r)
          for (int c = 0; c < h->cols; ++c) {
            const fig::Rgba want = fig::heatmap_color(*h, h->values[size_t(r) * h->cols + c]);
            const unsigned char* got = &img.px[(size_t(r) * img.w + c) * 3];
            const float rgb[3] = {want.r, want.g, want.b};
            for (int k = 0; k < 3; ++k)
              bad += std::abs(int(got[k]) - int(std::lround(rgb[k] * 255))) > 1;
            bad += std::abs(int(alpha[size_t(r) * img.w + c]) - int(std::lround(want.a * 255))) > 1;
          }
        EXPECT_EQ(bad, 0) << "heatmap id " << h->id;
      }
      EXPECT_EQ(count_of(svg, "image-rendering=\"optimizeSpeed\""), static_cast<int>(maps.size()));
    }
  }
}

// A 512x512 grid stays one image: the vector files do not grow with the cell count.
TEST(Export, BigGridsStaySmall) {
  core::Scene s = asset_scene("kv_memory_32k.json");  // 32k tokens -> a 512x512 mask grid
  const fig::Figure f = fig::build_view_figure("mask", s, fig::theme_slides());
  const fig::Heatmap* h = fig::find_heatmap(f, fig::kMaskHeatmapId);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->rows, 512);
  for (Format fmt : {Format::Svg, Format::Pdf})
    EXPECT_LT(core::exp::render_figure(f, opts(fmt)).size(), 400u * 1024)
        << core::exp::format_name(fmt);
}

TEST(Export, MissingFolderThrowsNamingThePathAndWritesNothing) {
  TempDir dir;
  const fig::Figure f =
      fig::build_view_figure("groups", asset_scene("gqa_llama70b.json"), fig::theme_light());
  const std::string path = dir / "missing/sub/figure.pdf";
  try {
    core::exp::export_figure(f, path, opts(Format::Pdf));
    FAIL() << "no error";
  } catch (const ExportError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_TRUE(listing(dir.path).empty());
}

TEST(Export, FailedWritesLeaveTheOldFileAndNoTemporary) {
  TempDir dir;
  const fig::Figure f =
      fig::build_view_figure("mask", asset_scene("sparse.json"), fig::theme_light());
  // Rendering fails (bad scale): the existing file keeps its bytes.
  spit(dir / "old.png", "old bytes");
  EXPECT_THROW(core::exp::export_figure(f, dir / "old.png", opts(Format::Png, 20)), ExportError);
  EXPECT_EQ(slurp(dir / "old.png"), "old bytes");
  // The final rename fails (a folder sits at the target): the temporary is removed.
  std::filesystem::create_directory(dir / "taken.svg");
  EXPECT_THROW(core::exp::export_figure(f, dir / "taken.svg", opts(Format::Svg)), ExportError);
  EXPECT_EQ(listing(dir.path), (std::vector<std::string>{"old.png", "taken.svg"}));
  // A read-only folder (root ignores permissions, so only as another user).
  if (geteuid() != 0) {
    std::filesystem::create_directory(dir / "ro");
    spit(dir / "ro/fig.pdf", "old pdf");
    chmod((dir / "ro").c_str(), 0555);
    EXPECT_THROW(core::exp::export_figure(f, dir / "ro/fig.pdf", opts(Format::Pdf)), ExportError);
    chmod((dir / "ro").c_str(), 0755);
    EXPECT_EQ(slurp(dir / "ro/fig.pdf"), "old pdf");
    EXPECT_EQ(listing(dir / "ro"), std::vector<std::string>{"fig.pdf"});
  }
  // A successful export replaces the old file.
  core::exp::export_figure(f, dir / "old.png", opts(Format::Png));
  EXPECT_TRUE(starts_with(slurp(dir / "old.png"), "\x89PNG"));
}

TEST(Export, DeckHasOnePagePerFigure) {
  TempDir dir;
  const core::Scene s = asset_scene("mistral_reach.json");
  std::vector<fig::Figure> pages;
  for (const fig::ViewEntry* id : fig::analytic_views())
    pages.push_back(fig::build_view_figure(*id, s, fig::theme_slides(), {1280, 720}));
  core::exp::export_pdf_deck(pages, dir / "deck.pdf", opts(Format::Pdf));
  const std::string pdf = slurp(dir / "deck.pdf");
  EXPECT_EQ(count_of(pdf, "/Type /Page") - count_of(pdf, "/Type /Pages"), 9);  // analytic views
  if (have_tool("pdfinfo")) {
    const RunResult r = run("pdfinfo " + (dir / "deck.pdf"));
    const size_t pages = r.out.find("Pages:");
    ASSERT_NE(pages, std::string::npos) << r.out;
    EXPECT_EQ(std::stoi(r.out.substr(pages + 6)), 9) << r.out;
    EXPECT_NE(r.out.find("1280 x 720 pts"), std::string::npos) << r.out;
  }
  EXPECT_EQ(pdf, [&] {
    core::exp::export_pdf_deck(pages, dir / "again.pdf", opts(Format::Pdf));
    return slurp(dir / "again.pdf");
  }());
  EXPECT_THROW(core::exp::export_pdf_deck({}, dir / "empty.pdf", opts(Format::Pdf)), ExportError);
}

// Text stays inside the page: every asset scene, every view, screen and slide sizes.
TEST(Export, NoTextLeavesTheFigure) {
  for (const std::string& name : asset_scene_names()) {
    const core::Scene scene = asset_scene(name);
    for (const fig::ViewEntry* id : fig::analytic_views())
      for (const auto& [theme, size] :
           {std::pair{fig::theme_dark(), fig::FigureSize{}},
            std::pair{fig::theme_slides(), fig::FigureSize{}},
            std::pair{fig::theme_slides(), fig::FigureSize{1280, 720}}}) {
        const fig::Figure f = fig::build_view_figure(*id, scene, theme, size);
        for (const core::exp::TextOverflow& o : core::exp::texts_outside(f))
          ADD_FAILURE() << name << " " << id->id << " " << theme.name << " " << f.width << "x"
                        << f.height << ": '" << o.text << "' spans x " << o.x0 << ".." << o.x1
                        << ", y " << o.y0 << ".." << o.y1;
      }
  }
}

TEST(Export, LongCaptionsWrapInsideThePage) {
  core::Scene s = asset_scene("mistral_swa.json");
  s.caption.clear();
  for (int i = 0; i < 12; ++i) s.caption += "A caption long enough to need several lines. ";
  for (const fig::ViewEntry* id : fig::analytic_views()) {
    const fig::Figure f = fig::build_view_figure(*id, s, fig::theme_slides());
    int lines = 0;
    for (const fig::Mark& m : f.marks)
      if (const auto* t = std::get_if<fig::Text>(&m); t && t->caption) ++lines;
    EXPECT_GE(lines, 4) << id->id;
    EXPECT_TRUE(core::exp::texts_outside(f).empty()) << id->id;
    ExportOptions without = opts(Format::Png);
    without.caption = false;
    EXPECT_NE(core::exp::render_figure(f, without), core::exp::render_figure(f, opts(Format::Png)));
  }
}

// A hand-made figure with a caption but no caption marks gets a block below it.
TEST(Export, CaptionWithoutMarksGrowsThePage) {
  fig::Figure f;
  f.width = 400;
  f.height = 300;
  f.background = fig::rgb8(255, 255, 255);
  f.foreground = fig::rgb8(0, 0, 0);
  f.caption = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen";
  const core::exp::PageSize p = core::exp::page_size(f, opts(Format::Pdf));
  EXPECT_EQ(p.width, 400);
  EXPECT_GT(p.height, 300 + 2 * 14);  // at least two wrapped lines of 14-unit text
  ExportOptions none = opts(Format::Pdf);
  none.caption = false;
  EXPECT_EQ(core::exp::page_size(f, none).height, 300);
}

}  // namespace
