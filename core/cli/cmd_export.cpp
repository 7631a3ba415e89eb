// `attnlab export`: draws views of a scene (or every slide of a lecture) to PDF, SVG or PNG
// with the same Figures the app shows. Headless: no display, no GL.
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/cli/commands.h"
#include "core/export/export.h"
#include "core/figure/theme.h"
#include "core/figure/view_registry.h"
#include "core/scene/lecture.h"
#include "core/scene/scene_json.h"
#include "core/session/session.h"

namespace core::cli {
namespace {

constexpr const char* kUsage =
    "usage: attnlab export --scene S.json [--view V|all] --out FILE|DIR [options]\n"
    "       attnlab export --lecture L.json --out DIR [--view all] [options]\n"
    "options:\n"
    "  --format pdf|svg|png   default: the extension of --out, else pdf\n"
    "  --width W --height H   layout size in figure units, 64..16384 (default: 1280 x 720 for\n"
    "                         slides, the view's own size for screen)\n"
    "  --scale S              PNG pixels per unit, 1..8 (3 turns a 1280-unit slide into 3840 px)\n"
    "  --theme slides|screen  slides: light with large type (default); screen: the scene's theme\n"
    "  --caption TEXT         caption under the figure (--scene only; default: the scene's)\n"
    "  --no-caption           leave the caption out\n"
    "Live views (live_attention, ...) run the scene's model headless first; --view all writes\n"
    "every view, the live ones included.\n";

constexpr float kSlideWidth = 1280, kSlideHeight = 720;
constexpr double kLiveTimeoutS = 600;  // a model load and pass on a slow machine
constexpr int kExportRingSteps = 8;    // greedy tokens generated for live_ring / live_memory

struct Args {
  std::string scene, lecture, view, out, theme = "slides";
  std::optional<exp::Format> format;
  float width = 0, height = 0, scale = 1;
  bool sized = false;  // --width or --height given (0 is then out of range, not "default")
  std::optional<std::string> caption;
  bool no_caption = false;
};

struct UsageError {
  std::string msg;
};

float parse_number(const char* flag, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || errno != 0 || !std::isfinite(d))
    throw UsageError{std::string(flag) + ": '" + v + "' is not a number"};
  return static_cast<float>(d);
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i], value;
    bool has_value = false;
    if (const size_t eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) throw UsageError{flag + " needs a value"};
      return argv[++i];
    };
    if (flag == "--scene")
      a.scene = next();
    else if (flag == "--lecture")
      a.lecture = next();
    else if (flag == "--view")
      a.view = next();
    else if (flag == "--out")
      a.out = next();
    else if (flag == "--theme")
      a.theme = next();
    else if (flag == "--caption")
      a.caption = next();
    else if (flag == "--no-caption")
      a.no_caption = true;
    else if (flag == "--width")
      a.width = parse_number("--width", next()), a.sized = true;
    else if (flag == "--height")
      a.height = parse_number("--height", next()), a.sized = true;
    else if (flag == "--scale")
      a.scale = parse_number("--scale", next());
    else if (flag == "--format") {
      const std::string f = next();
      a.format = exp::parse_format(f);
      if (!a.format)
        throw UsageError{"--format: unknown format '" + f + "' (allowed pdf, svg, png)"};
    } else {
      throw UsageError{"unknown argument '" + std::string(argv[i]) + "'"};
    }
  }
  if (a.scene.empty() == a.lecture.empty())
    throw UsageError{"give exactly one of --scene and --lecture"};
  if (a.out.empty()) throw UsageError{"--out is required"};
  if (a.theme != "slides" && a.theme != "screen")
    throw UsageError{"--theme: unknown theme '" + a.theme + "' (allowed slides, screen)"};
  if (!a.view.empty() && a.view != "all" && !fig::find_view(a.view))
    throw UsageError{"--view: unknown view '" + a.view + "' (allowed " + fig::view_id_list() +
                     ", all)"};
  if (a.sized && (a.width == 0 || a.height == 0))
    throw UsageError{"--width and --height go together, both in 64..16384"};
  if (a.sized && (a.width < 64 || a.width > 16384 || a.height < 64 || a.height > 16384))
    throw UsageError{"--width and --height must be in 64..16384"};
  if (!(a.scale >= 1 && a.scale <= 8)) throw UsageError{"--scale must be in 1..8"};
  if (a.caption && !a.lecture.empty())
    throw UsageError{"--caption applies to --scene; a lecture has a caption per scene"};
  return a;
}

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The output folder of --view all / --lecture: used when it exists, created when its parent
// does, an error otherwise (a typo in the path should not grow a tree of folders).
void ensure_folder(const std::string& dir) {
  if (is_dir(dir)) return;
  if (::mkdir(dir.c_str(), 0755) != 0)
    throw exp::ExportError("cannot create the output folder '" + dir +
                           "': " + std::strerror(errno));
}

std::string join(const std::string& dir, const std::string& name) {
  return !dir.empty() && dir.back() == '/' ? dir + name : dir + "/" + name;
}

// "Sliding window: W=4096" -> "sliding-window-w-4096".
std::string slug(const std::string& title) {
  std::string s;
  for (unsigned char c : title) {
    if (std::isalnum(c))
      s += static_cast<char>(std::tolower(c));
    else if (!s.empty() && s.back() != '-')
      s += '-';
    if (s.size() >= 48) break;
  }
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s.empty() ? "scene" : s;
}

fig::Theme pick_theme(const Args& a, const Scene& s) {
  return a.theme == "slides" ? fig::theme_slides() : fig::theme_by_name(s.theme);
}

// Slides are 16:9 at 1280 x 720 units unless --width/--height say otherwise, so every page of
// a deck has the same size; the screen theme keeps each view's own size.
fig::FigureSize layout_size(const Args& a) {
  if (a.width > 0) return {a.width, a.height};
  if (a.theme == "slides") return {kSlideWidth, kSlideHeight};
  return {};
}

// The scene's model, run headless once for the live views of an export.
struct LiveRunner {
  std::unique_ptr<Session> session;
  const LiveResult& result(const Scene& s) {
    if (!session) {
      LiveSessionOptions o;
      o.draft_first = DraftFirst::Never;  // an export shows the exact pass only, never a draft
      session = std::make_unique<Session>(o);
      session->update(s);
      if (!session->wait_live(kLiveTimeoutS))
        throw exp::ExportError("the model did not finish within " +
                               std::to_string(static_cast<int>(kLiveTimeoutS)) + " s");
      // The rolling-buffer and memory views show generation: a few greedy tokens.
      session->live().step(kExportRingSteps);
      session->wait_live(kLiveTimeoutS);
      const LiveResult& r = *session->live_result();
      if (!r.config) throw exp::ExportError("model '" + s.model + "': " + r.error);
      if (!r.error.empty()) throw exp::ExportError(r.error);
    }
    return *session->live_result();
  }
};

fig::Figure make(const Args& a, const fig::ViewEntry& e, const Scene& s, LiveRunner& live) {
  Scene scene = s;
  if (a.no_caption) scene.caption.clear();  // laid out without a caption: the plot takes its room
  fig::ViewInput in{scene};
  if (e.live) in.live = &live.result(s);
  const fig::ViewData data = e.build_data(in);
  if (e.live && !data.data) throw exp::ExportError("view " + e.id + ": " + data.message);
  return e.build_figure(data, in, pick_theme(a, s), layout_size(a));
}

exp::ExportOptions options(const Args& a, exp::Format f) {
  exp::ExportOptions o;
  o.format = f;
  o.scale = a.scale;
  o.caption = !a.no_caption;
  return o;
}

void write(const fig::Figure& fig, const std::string& path, const exp::ExportOptions& o) {
  exp::export_figure(fig, path, o);
  std::printf("%s\n", path.c_str());
}

int export_scene(const Args& a) {
  std::vector<std::string> warnings;
  Scene scene = load_scene(a.scene, warnings);
  for (const std::string& w : warnings)
    std::fprintf(stderr, "attnlab export: %s: warning: %s\n", a.scene.c_str(), w.c_str());
  if (a.caption) scene.caption = *a.caption;
  LiveRunner live;
  if (a.view == "all") {
    const exp::Format f = a.format.value_or(exp::Format::Pdf);
    ensure_folder(a.out);
    for (const fig::ViewEntry& e : fig::view_entries())
      write(make(a, e, scene, live), join(a.out, e.id + "." + exp::format_name(f)), options(a, f));
    return 0;
  }
  const exp::Format f =
      a.format ? *a.format : exp::format_from_path(a.out).value_or(exp::Format::Pdf);
  // load_scene checked scene.view and parse_args checked --view: both name an entry.
  const fig::ViewEntry& e = *fig::find_view(a.view.empty() ? scene.view : a.view);
  write(make(a, e, scene, live), a.out, options(a, f));
  return 0;
}

int export_lecture(const Args& a) {
  std::vector<std::string> warnings;
  const Lecture lec = load_lecture(a.lecture, warnings);
  for (const std::string& w : warnings)
    std::fprintf(stderr, "attnlab export: warning: %s\n", w.c_str());
  const exp::Format f = a.format.value_or(exp::Format::Pdf);
  ensure_folder(a.out);
  if (const fig::ViewEntry* e = fig::find_view(a.view); e && e->live)
    throw exp::ExportError("--view " + a.view + ": a lecture's slides are drawn without a model");
  LiveRunner live;  // unused: lecture slides are analytic
  std::vector<fig::Figure> deck;
  for (size_t i = 0; i < lec.slides.size(); ++i) {
    const LectureSlide& sl = lec.slides[i];
    char nn[32];
    std::snprintf(nn, sizeof nn, "%02zu-", i + 1);
    const std::string base = nn + slug(sl.title);
    const fig::ViewEntry& own = *fig::find_view(sl.scene.view);
    fig::Figure fig = make(a, own, sl.scene, live);
    if (a.view == "all") {
      for (const fig::ViewEntry* e : fig::analytic_views())
        write(e == &own ? fig : make(a, *e, sl.scene, live),
              join(a.out, base + "-" + e->id + "." + exp::format_name(f)), options(a, f));
    } else {
      const fig::ViewEntry& e = a.view.empty() ? own : *fig::find_view(a.view);
      if (&e != &own) fig = make(a, e, sl.scene, live);
      write(fig, join(a.out, base + "." + exp::format_name(f)), options(a, f));
    }
    if (f == exp::Format::Pdf) deck.push_back(std::move(fig));
  }
  if (f == exp::Format::Pdf) {
    const std::string path = join(a.out, "deck.pdf");
    exp::export_pdf_deck(deck, path, options(a, f));
    std::printf("%s\n", path.c_str());
  }
  return 0;
}

}  // namespace

int cmd_export(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf("%s", kUsage);
      return 0;
    }
  Args a;
  try {
    a = parse_args(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "attnlab export: %s\n%s", e.msg.c_str(), kUsage);
    return 2;
  }
  try {
    return a.lecture.empty() ? export_scene(a) : export_lecture(a);
  } catch (const SceneError& e) {
    std::fprintf(stderr, "attnlab export: %s\n", e.what());
  } catch (const exp::ExportError& e) {
    std::fprintf(stderr, "attnlab export: %s\n", e.what());
  }
  return 2;
}

}  // namespace core::cli
