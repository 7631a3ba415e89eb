#include "core/export/export.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <memory>
#include <variant>

#include "core/export/render.h"
#include "core/io/atomic_write.h"

namespace core::exp {
namespace {

constexpr float kMinSide = 64;       // figure units
constexpr float kMaxSide = 16384;    // figure units
constexpr float kMaxPixels = 32767;  // cairo's image surface limit per side
constexpr double kPi = 3.14159265358979323846;

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using ContextPtr = std::unique_ptr<cairo_t, ContextDeleter>;

// A scratch context for measuring text before any page exists.
ContextPtr measuring_context() {
  SurfacePtr s(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1));
  ContextPtr cr(cairo_create(s.get()));
  detail::set_font_options(cr.get());
  return cr;
}

void check_status(cairo_status_t st, const char* what) {
  if (st != CAIRO_STATUS_SUCCESS)
    throw ExportError(std::string("cairo failed while ") + what + ": " +
                      cairo_status_to_string(st));
}

void validate(const fig::Figure& f, const ExportOptions& o) {
  auto side_ok = [](float v) { return std::isfinite(v) && v >= kMinSide && v <= kMaxSide; };
  if (!side_ok(f.width) || !side_ok(f.height))
    throw ExportError("figure size " + std::to_string(f.width) + " x " + std::to_string(f.height) +
                      " is outside " + std::to_string(int(kMinSide)) + ".." +
                      std::to_string(int(kMaxSide)));
  if ((o.width != 0 || o.height != 0) && (!side_ok(o.width) || !side_ok(o.height)))
    throw ExportError("width and height must both be in 64..16384 (got " + std::to_string(o.width) +
                      " x " + std::to_string(o.height) + ")");
  if (!std::isfinite(o.scale) || o.scale < 1 || o.scale > 8)
    throw ExportError("scale must be in 1..8 (got " + std::to_string(o.scale) + ")");
}

// Draws the figure scaled to fit a page of `page` units, centred.
void draw_on_page(cairo_t* cr, const fig::Figure& f, const PageSize& page, bool with_caption,
                  float content_h) {
  const double fit = std::min(page.width / f.width, page.height / content_h);
  cairo_save(cr);
  cairo_set_source_rgba(cr, f.background.r, f.background.g, f.background.b, f.background.a);
  cairo_paint(cr);
  cairo_translate(cr, (page.width - f.width * fit) / 2, (page.height - content_h * fit) / 2);
  cairo_scale(cr, fit, fit);
  detail::draw_figure(cr, f, with_caption);
  cairo_restore(cr);
}

float content_height(const fig::Figure& f, const ExportOptions& o) {
  if (!o.caption) return f.height;
  ContextPtr cr = measuring_context();
  return f.height + detail::caption_block_height(f, cr.get(), f.width);
}

// Fixed document metadata. cairo 1.16 stamps the current time as /CreationDate unless it is
// set; an empty value leaves the entry out, so the same figure gives the same bytes.
void set_pdf_metadata(cairo_surface_t* s, const std::string& title) {
  cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title.c_str());
  cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "attnlab");
  cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, "");
}

// cairo 1.16 writes no filter hint into SVG, so viewers would blur a 64x64 heatmap image into
// a smear. Heatmaps are the only images the exporter draws; every one gets nearest-neighbour
// scaling (the attribute for SVG 1.1 viewers, the CSS property for browsers).
void mark_images_pixelated(std::string& svg) {
  const std::string tag = "<image ";
  const std::string attrs =
      "image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\" ";
  for (size_t p = svg.find(tag); p != std::string::npos; p = svg.find(tag, p + tag.size()))
    svg.insert(p + tag.size(), attrs);
}

// cairo numbers SVG surfaces, images and patterns from process-wide counters, so the second
// export in a process (the app, a deck, a test) would differ from the first. Renumber every
// such id in order of first appearance; glyph ids are already per document.
void renumber_svg_ids(std::string& svg) {
  static const std::string kPrefixes[] = {"surface", "image", "pattern", "clip", "mask", "source"};
  std::map<std::string, std::string> renamed;
  std::map<std::string, int> next;
  std::string out;
  out.reserve(svg.size());
  size_t i = 0;
  while (i < svg.size()) {
    const char c = svg[i++];
    out.push_back(c);
    if (c != '"' && c != '#') continue;
    for (const std::string& p : kPrefixes) {
      if (svg.compare(i, p.size(), p) != 0) continue;
      size_t j = i + p.size();
      while (j < svg.size() && std::isdigit(static_cast<unsigned char>(svg[j]))) ++j;
      if (j == i + p.size() || j >= svg.size() || (svg[j] != '"' && svg[j] != ')')) break;
      const std::string key = svg.substr(i, j - i);
      auto it = renamed.find(key);
      if (it == renamed.end()) it = renamed.emplace(key, p + std::to_string(++next[p])).first;
      out += it->second;
      i = j;
      break;
    }
  }
  svg.swap(out);
}

std::string render_vector(const fig::Figure& f, const ExportOptions& o) {
  const PageSize page = page_size(f, o);
  const float content_h = content_height(f, o);
  std::string out;
  SurfacePtr s;
  if (o.format == Format::Svg) {
    s.reset(cairo_svg_surface_create_for_stream(append_bytes, &out, page.width, page.height));
    cairo_svg_surface_restrict_to_version(s.get(), CAIRO_SVG_VERSION_1_1);
  } else {
    s.reset(cairo_pdf_surface_create_for_stream(append_bytes, &out, page.width, page.height));
    set_pdf_metadata(s.get(), f.title);
  }
  check_status(cairo_surface_status(s.get()), "creating the surface");
  {
    ContextPtr cr(cairo_create(s.get()));
    draw_on_page(cr.get(), f, page, o.caption, content_h);
    check_status(cairo_status(cr.get()), "drawing");
  }
  cairo_surface_finish(s.get());
  check_status(cairo_surface_status(s.get()), "writing");
  if (o.format == Format::Svg) {
    renumber_svg_ids(out);
    mark_images_pixelated(out);
  }
  return out;
}

std::string render_png(const fig::Figure& f, const ExportOptions& o) {
  const PageSize page = page_size(f, o);
  const int w = static_cast<int>(std::lround(page.width * o.scale));
  const int h = static_cast<int>(std::lround(page.height * o.scale));
  if (w > kMaxPixels || h > kMaxPixels || int64_t{w} * h > kMaxPngPixels)
    throw ExportError("PNG of " + std::to_string(w) + " x " + std::to_string(h) +
                      " pixels is too large (at most 32767 a side and " +
                      std::to_string(kMaxPngPixels) +
                      " pixels in all, e.g. 8192 x 8192); lower --scale or the size");
  SurfacePtr s(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h));
  check_status(cairo_surface_status(s.get()), "creating the image");
  {
    ContextPtr cr(cairo_create(s.get()));
    cairo_scale(cr.get(), o.scale, o.scale);
    draw_on_page(cr.get(), f, page, o.caption, content_height(f, o));
    check_status(cairo_status(cr.get()), "drawing");
  }
  cairo_surface_flush(s.get());
  std::string out;
  check_status(cairo_surface_write_to_png_stream(s.get(), append_bytes, &out), "encoding PNG");
  return out;
}

void write_or_throw(const std::string& path, const std::string& bytes) {
  // The common mistakes get a plain message before the OS error of the temporary file would.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    throw ExportError("cannot write '" + path + "': the folder '" + dir + "' does not exist");
  if (!S_ISDIR(st.st_mode))
    throw ExportError("cannot write '" + path + "': '" + dir + "' is not a folder");
  try {
    write_file_atomic(path, bytes);
  } catch (const IoError& e) {
    throw ExportError(e.what());
  }
}

}  // namespace

const char* format_name(Format f) {
  switch (f) {
    case Format::Png:
      return "png";
    case Format::Svg:
      return "svg";
    case Format::Pdf:
      return "pdf";
  }
  return "png";
}

std::optional<Format> parse_format(std::string_view s) {
  for (Format f : {Format::Png, Format::Svg, Format::Pdf})
    if (s == format_name(f)) return f;
  return std::nullopt;
}

std::optional<Format> format_from_path(std::string_view path) {
  const size_t dot = path.rfind('.');
  const size_t slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
    return std::nullopt;
  std::string ext(path.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return parse_format(ext);
}

PageSize page_size(const fig::Figure& f, const ExportOptions& o) {
  if (o.width > 0 && o.height > 0) return {o.width, o.height};
  return {f.width, content_height(f, o)};
}

std::string render_figure(const fig::Figure& f, const ExportOptions& o) {
  validate(f, o);
  return o.format == Format::Png ? render_png(f, o) : render_vector(f, o);
}

void export_figure(const fig::Figure& f, const std::string& path, const ExportOptions& o) {
  std::string bytes;
  try {
    bytes = render_figure(f, o);
  } catch (const ExportError& e) {
    throw ExportError("cannot export '" + path + "': " + e.what());
  }
  write_or_throw(path, bytes);
}

void export_pdf_deck(const std::vector<fig::Figure>& pages, const std::string& path,
                     const ExportOptions& o) {
  if (pages.empty()) throw ExportError("cannot export '" + path + "': the deck has no pages");
  PageSize page;
  std::string out;
  try {
    for (const fig::Figure& f : pages) validate(f, o);
    // One page size for the whole deck: the largest page any figure asks for.
    for (const fig::Figure& f : pages) {
      const PageSize p = page_size(f, o);
      page.width = std::max(page.width, p.width);
      page.height = std::max(page.height, p.height);
    }
    SurfacePtr s(cairo_pdf_surface_create_for_stream(append_bytes, &out, page.width, page.height));
    check_status(cairo_surface_status(s.get()), "creating the surface");
    set_pdf_metadata(s.get(), pages.front().title);
    {
      ContextPtr cr(cairo_create(s.get()));
      for (const fig::Figure& f : pages) {
        draw_on_page(cr.get(), f, page, o.caption, content_height(f, o));
        cairo_show_page(cr.get());
      }
      check_status(cairo_status(cr.get()), "drawing");
    }
    cairo_surface_finish(s.get());
    check_status(cairo_surface_status(s.get()), "writing");
  } catch (const ExportError& e) {
    throw ExportError("cannot export '" + path + "': " + e.what());
  }
  write_or_throw(path, out);
}

std::vector<TextOverflow> texts_outside(const fig::Figure& f) {
  ContextPtr cr = measuring_context();
  std::vector<TextOverflow> out;
  for (const fig::Mark& m : f.marks) {
    const auto* t = std::get_if<fig::Text>(&m);
    if (!t || t->text.empty()) continue;
    detail::select_font(cr.get(), t->size, t->bold);
    cairo_text_extents_t e;
    cairo_text_extents(cr.get(), t->text.c_str(), &e);
    double dx = 0;
    if (t->anchor == fig::Anchor::Center) dx = -e.x_advance / 2;
    if (t->anchor == fig::Anchor::Right) dx = -e.x_advance;
    // Corners of the ink box in text space, rotated about the anchor into figure space.
    const double xs[2] = {dx + e.x_bearing, dx + e.x_bearing + e.width};
    const double ys[2] = {e.y_bearing, e.y_bearing + e.height};
    const double a = -t->angle_deg * kPi / 180.0, c = std::cos(a), sn = std::sin(a);
    double x0 = 1e30, y0 = 1e30, x1 = -1e30, y1 = -1e30;
    for (double x : xs)
      for (double y : ys) {
        const double fx = t->x + x * c - y * sn, fy = t->y + x * sn + y * c;
        x0 = std::min(x0, fx), x1 = std::max(x1, fx), y0 = std::min(y0, fy), y1 = std::max(y1, fy);
      }
    constexpr double kTol = 0.5;
    if (x0 < -kTol || y0 < -kTol || x1 > f.width + kTol || y1 > f.height + kTol)
      out.push_back({t->text, float(x0), float(y0), float(x1), float(y1)});
  }
  return out;
}

}  // namespace core::exp
