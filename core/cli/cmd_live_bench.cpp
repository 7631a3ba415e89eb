// `attnlab live-bench`: how fast the live views follow the UI on this machine. For SmolLM2 at
// N = 128 and N = 512 prompt tokens (up to 4096) it times a window-slider change until the
// first layer of the new pass is published, until the attention view is rebuilt from the
// draft (int8), and from the exact pass (LiveSession + build_live_attention + its Figure,
// exactly what the app runs; the positions kept from the previous pass are reported), next
// to a session without drafts, alternating (drafts forced on and off: DraftFirst::Always,
// Never), with the choice the app's measured mode (live_draft.h) makes from the timed pairs;
// and it measures decode tokens/s with the KV cache and without (`none`), then the process's
// peak RSS. Each session's first two moves (its maps faulting in) are printed apart from the
// medians.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "core/cli/commands.h"
#include "core/figure/live_views.h"
#include "core/io/atomic_write.h"
#include "core/model/qgemm_int8.h"
#include "core/model/tokenizer_gguf.h"
#include "core/session/live_runs.h"
#include "core/session/live_session.h"

namespace core::cli {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

int usage(const char* msg) {
  if (msg) std::fprintf(stderr, "attnlab live-bench: %s\n", msg);
  std::fprintf(stderr,
               "usage: attnlab live-bench [--model NAME|FILE.gguf] [--n 128,512]\n"
               "                          [--window W] [--rounds R] [--threads T]\n"
               "                          [--speed-prompt T] [--speed-steps S]\n");
  return 2;
}

// A prompt of n tokens (as the session will encode it): the perplexity text repeated, cut.
std::string prompt_of(const model::Tokenizer& tok, const std::string& text, int n) {
  std::string s;
  while (static_cast<int>(tok.encode(s).size()) < n + 4) s += text;
  const std::vector<int32_t> ids = tok.encode(s, false);
  std::string best;
  // Decoding and encoding again can merge tokens at the cut; take the cut that gives n.
  for (int k = std::max(1, n - 3); k <= n + 3 && k <= static_cast<int>(ids.size()); ++k) {
    best = tok.decode(std::vector<int32_t>(ids.begin(), ids.begin() + k));
    if (static_cast<int>(tok.encode(best).size()) >= n) break;
  }
  return best;
}

// Builds what the app's next frame builds from r: the attention view's data and figure.
size_t build_view(const LiveResult& r) {
  LiveAttentionOptions ao;
  ao.thumbs = r.pass->thumbs.get();
  const LiveAttention a = build_live_attention(*r.pass, r.native.get(), *r.config, ao);
  return fig::figure_live_attention(a, Scene{}, r, fig::theme_dark()).marks.size();
}

// One slider move to `window`: ms until the first layer of the new pass is published, until
// the draft is on screen (view built) and until the exact pass is; -1 = never seen.
struct SliderTimes {
  double first_layer = -1, draft = -1, exact = -1;
  int reused = -1;  // positions the exact pass kept from the previous one
};

bool slider_move(LiveSession& live, LiveRun& sc, int window, SliderTimes& out) {
  sc.variant.window = window;
  const auto t0 = Clock::now();
  live.update(sc);
  for (;;) {
    auto r = live.result();
    const bool ours = r->pass && r->pass->variant.window == window;
    if (out.first_layer < 0 && ((r->partial && r->partial->variant.window == window) || ours))
      out.first_layer = ms_since(t0);
    if (ours && r->pass->draft() && out.draft < 0) {
      build_view(*r);
      out.draft = ms_since(t0);
    }
    if (ours && !r->pass->draft()) {
      build_view(*r);
      out.exact = ms_since(t0);
      out.reused = r->pass->reused;
      return live.wait_idle(600);
    }
    if (!r->error.empty() || ms_since(t0) > 600000) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// "layer L head H": where a draft/exact difference peaks.
std::string where_of_max(const DraftDelta& d) {
  if (d.max_dp.empty() || d.n_heads <= 0) return "none";
  const auto at = std::max_element(d.max_dp.begin(), d.max_dp.end()) - d.max_dp.begin();
  return "layer " + std::to_string(at / d.n_heads) + " head " + std::to_string(at % d.n_heads);
}

// The same move on the drafting session a, then on the exact-only session b.
bool move_both(LiveSession& a, LiveSession& b, LiveRun& sc, int window, SliderTimes& ta,
               SliderTimes& tb) {
  if (slider_move(a, sc, window, ta) && slider_move(b, sc, window, tb)) return true;
  std::fprintf(stderr, "attnlab live-bench: no pass for window %d\n", window);
  return false;
}

double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return x < 0; }), v.end());
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int cmd_live_bench(int argc, char** argv) {
  std::string model_name = "smollm2";
  std::vector<int> sizes = {128, 512};
  int window = 32, speed_prompt = 64, speed_steps = 8, rounds = 2, threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "--help" || f == "-h") {
      std::printf(
          "usage: attnlab live-bench [--model NAME|FILE.gguf] [--n 128,512]\n"
          "                          [--window W] [--rounds R] [--threads T]\n"
          "                          [--speed-prompt T] [--speed-steps S]\n"
          "times a window-slider change to an updated live attention view at each N (up to\n"
          "4096; 2R moves, W <-> W/2; the positions kept from the previous pass are reported):\n"
          "until the first layer shows, the draft and the exact pass, next to a session that\n"
          "runs exact passes only, alternating, and whether the app would draft first here\n"
          "(its measured rule on the timed pairs); and decode tok/s with the KV cache against\n"
          "none (recomputing every step). T: worker threads (0 = all cores). Ends with the\n"
          "process's peak RSS.\n"
          "NAME is a model of assets/models.json (default smollm2).\n");
      return 0;
    }
    if (i + 1 >= argc) return usage(("missing value for " + f).c_str());
    const std::string v = argv[++i];
    try {
      if (f == "--model") {
        model_name = v;
      } else if (f == "--n") {
        sizes.clear();
        for (size_t p = 0; p < v.size();) {
          const size_t c = v.find(',', p);
          sizes.push_back(std::stoi(v.substr(p, c - p)));
          if (c == std::string::npos) break;
          p = c + 1;
        }
      } else if (f == "--window") {
        window = std::stoi(v);
      } else if (f == "--rounds") {
        rounds = std::stoi(v);
      } else if (f == "--threads") {
        threads = std::stoi(v);
      } else if (f == "--speed-prompt") {
        speed_prompt = std::stoi(v);
      } else if (f == "--speed-steps") {
        speed_steps = std::stoi(v);
      } else {
        return usage(("unknown flag " + f).c_str());
      }
    } catch (const std::exception&) {
      return usage(("bad number for " + f + ": '" + v + "'").c_str());
    }
  }
  for (int n : sizes)
    if (n < 2 || n > 4096) return usage("--n: sizes must be 2..4096");
  if (threads < 0 || threads > 1024) return usage("--threads: 0..1024");
  if (window < 1 || window > (1 << 20) || speed_prompt < 2 || speed_prompt > 4096 ||
      speed_steps < 1 || speed_steps > 4096 || rounds < 1 || rounds > 100)
    return usage(
        "--window 1..1048576, --speed-prompt 2..4096, --speed-steps 1..4096, --rounds 1..100");

  std::string path;
  std::shared_ptr<const model::Model> m;
  try {
    path = model::resolve_model_path(model_name);
    m = model::Model::load(path, threads);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attnlab live-bench: %s\n", e.what());
    return 2;
  }
  const model::Tokenizer tok = model::load_tokenizer(m->gguf());
  const std::string text = read_file(default_ppl_text_path());
  std::printf("model: %s (%s), load %.2f s\n", m->config().name.c_str(), path.c_str(),
              m->load_seconds());

  // Per N: one session that always drafts first and one that runs exact passes only, the same
  // slider moves alternating between them.
  for (int n : sizes) {
    LiveSessionOptions with_draft, exact_only;
    with_draft.max_tokens = exact_only.max_tokens = 4096;
    with_draft.n_threads = exact_only.n_threads = threads;
    with_draft.draft_first = DraftFirst::Always;
    exact_only.draft_first = DraftFirst::Never;
    LiveSession a(with_draft), b(exact_only);
    LiveRun sc;
    sc.model = path;
    sc.prompt = prompt_of(tok, text, n);
    for (LiveSession* live : {&a, &b}) {
      live->update(sc);  // native pass first (also the difference-mode reference)
      if (!live->wait_idle(600) || !live->result()->pass) {
        std::fprintf(stderr, "attnlab live-bench: pass failed: %s\n",
                     live->result()->error.c_str());
        return 1;
      }
    }
    const int tokens = static_cast<int>(a.result()->pass->tokens.size());
    std::printf("first pass (native, from scratch), N=%d: %.0f ms\n", tokens, a.result()->pass->ms);
    // A session's first moves fault in their maps: each pass writes fresh ones while the view
    // still shows the last (141 MB at N = 512), until the views hand maps back to the pool
    // (map_pool.h). Printed apart; the medians are of the moves after them, as a slider drags.
    for (int w : {window, std::max(1, window / 2)}) {
      SliderTimes ta, tb;
      if (!move_both(a, b, sc, w, ta, tb)) return 1;
      std::printf(
          "N=%d window ->%d, the session's first moves (not in the medians): draft-first: draft "
          "view %.0f ms, exact view %.0f ms | exact only: exact view %.0f ms\n",
          tokens, w, ta.draft, ta.exact, tb.exact);
    }
    std::vector<double> first_a, draft_a, exact_a, first_b, exact_b;
    for (int i = 0; i < 2 * rounds; ++i) {
      const int w = i % 2 == 0 ? window : std::max(1, window / 2);
      SliderTimes ta, tb;
      if (!move_both(a, b, sc, w, ta, tb)) return 1;
      std::printf(
          "N=%d window ->%d: draft-first: first layer %.0f ms, draft view %.0f ms, exact view "
          "%.0f ms (%d positions kept) | exact only: first layer %.0f ms, exact view %.0f ms\n",
          tokens, w, ta.first_layer, ta.draft, ta.exact, ta.reused, tb.first_layer, tb.exact);
      first_a.push_back(ta.first_layer);
      draft_a.push_back(ta.draft);
      exact_a.push_back(ta.exact);
      first_b.push_back(tb.first_layer);
      exact_b.push_back(tb.exact);
    }
    const auto t1 = Clock::now();  // the rollout view (the app builds it on the UI thread)
    const LiveRollout ro = build_live_rollout(*a.result()->pass, *a.result()->config, -1);
    std::printf("  rollout view for the last query: %.0f ms (%zu layers)\n", ms_since(t1),
                ro.layers.size());
    const auto d = a.result()->draft_delta;
    std::printf(
        "slider -> attention view, N=%d, medians of %d: draft %.0f ms, exact after the draft "
        "%.0f ms, exact alone %.0f ms; first layer %.0f ms (draft) / %.0f ms (exact); draft "
        "int8 path %s, max |dp| draft vs exact %.4f (window %d, %s)\n",
        tokens, 2 * rounds, median(draft_a), median(exact_a), median(exact_b), median(first_a),
        median(first_b), model::int8_path_name(model::current_int8_path()), d ? d->overall : -1.0f,
        a.result()->pass->variant.window, d ? where_of_max(*d).c_str() : "none");
    // What the app would do here: its measured mode reads the last draft/exact pair timed.
    const DraftChoice choice =
        choose_draft(DraftFirst::Measured, a.result()->pass->draft_choice.ratio);
    std::printf("draft decision, N=%d (app default, threshold %.2fx): %s -> %s\n", tokens,
                kDraftPaysRatio, draft_choice_text(choice).c_str(),
                choice.draft() ? "draft first" : "exact only");
  }
  std::vector<int32_t> ids = tok.encode(prompt_of(tok, text, speed_prompt));
  LiveControl sctl;
  sctl.n_threads = threads;
  const LiveSpeed sp = measure_decode_speed(m, ids, speed_steps, sctl);
  std::printf(
      "decode, %d-token prompt, %d steps: %.2f tok/s with the KV cache, %.2f tok/s without "
      "(none) = %.1fx\n",
      sp.prompt_tokens, sp.steps, sp.cache_tok_s, sp.none_tok_s, sp.ratio());
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("peak RSS: %.0f MB\n", ru.ru_maxrss / 1024.0);
  return 0;
}

}  // namespace core::cli
