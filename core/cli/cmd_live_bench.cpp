// `attnlab live-bench`: how fast the live views follow the UI on this machine. For SmolLM2 at
// N = 128 and N = 512 prompt tokens it times a window-slider change until the attention view
// is rebuilt from the new pass (LiveSession + build_live_attention + its Figure, exactly
// what the app runs), and it measures decode tokens/s with the KV cache and without (`none`).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "core/cli/commands.h"
#include "core/figure/live_views.h"
#include "core/io/atomic_write.h"
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
               "                          [--window W] [--threads T] [--speed-prompt T]\n"
               "                          [--speed-steps S]\n");
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

// Waits until the session publishes a pass with `window`; returns false on timeout.
std::shared_ptr<const LiveResult> wait_pass(const LiveSession& s, int window) {
  const auto t0 = Clock::now();
  for (;;) {
    auto r = s.result();
    if (r->pass && r->pass->variant.window == window) return r;
    if (!r->error.empty() || ms_since(t0) > 600000) return nullptr;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

}  // namespace

int cmd_live_bench(int argc, char** argv) {
  std::string model_name = "smollm2";
  std::vector<int> sizes = {128, 512};
  int window = 32, speed_prompt = 64, speed_steps = 8, threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "--help" || f == "-h") {
      std::printf(
          "usage: attnlab live-bench [--model NAME|FILE.gguf] [--n 128,512]\n"
          "                          [--window W] [--threads T] [--speed-prompt T]\n"
          "                          [--speed-steps S]\n"
          "times a window-slider change to an updated live attention view at each N (up to\n"
          "4096; the positions kept from the previous pass are reported), and decode tok/s\n"
          "with the KV cache against none (recomputing every step). T: worker threads (0 =\n"
          "all cores). Ends with the process's peak RSS.\n"
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
      speed_steps < 1 || speed_steps > 4096)
    return usage("--window 1..1048576, --speed-prompt 2..4096, --speed-steps 1..4096");

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

  LiveSessionOptions opts;
  opts.max_tokens = 4096;
  opts.n_threads = threads;
  for (int n : sizes) {
    LiveSession live(opts);
    LiveRun sc;
    sc.model = path;
    sc.prompt = prompt_of(tok, text, n);
    live.update(sc);  // native pass first (also the difference-mode reference)
    if (!live.wait_idle(600) || !live.result()->pass) {
      std::fprintf(stderr, "attnlab live-bench: pass failed: %s\n", live.result()->error.c_str());
      return 1;
    }
    const int tokens = static_cast<int>(live.result()->pass->tokens.size());
    std::printf("first pass (native, from scratch), N=%d: %.0f ms\n", tokens,
                live.result()->pass->ms);
    int from = 0;
    for (int w : {window, std::max(1, window / 2)}) {
      sc.variant.window = w;
      const auto t0 = Clock::now();
      live.update(sc);  // the slider moved
      auto r = wait_pass(live, w);
      if (!r) {
        std::fprintf(stderr, "attnlab live-bench: no pass for window %d\n", w);
        return 1;
      }
      const double pass_ms = ms_since(t0);
      LiveAttentionOptions ao;  // what the app's next frame builds
      ao.thumbs = r->pass->thumbs.get();
      const LiveAttention a = build_live_attention(*r->pass, r->native.get(), *r->config, ao);
      const fig::Figure f = fig::figure_live_attention(a, Scene{}, *r, fig::theme_dark());
      const double total_ms = ms_since(t0);
      std::printf(
          "slider -> attention view, N=%d, window %d->%d: %.0f ms (forward pass %.0f ms, %d "
          "positions kept, view + figure %.0f ms, %zu marks)\n",
          tokens, from, w, total_ms, pass_ms, r->pass->reused, total_ms - pass_ms, f.marks.size());
      const auto t1 = Clock::now();  // the rollout view (the app builds it on the UI thread)
      const LiveRollout ro = build_live_rollout(*r->pass, *r->config, -1);
      std::printf("  rollout view for the last query: %.0f ms (%zu layers)\n", ms_since(t1),
                  ro.layers.size());
      from = w;
      live.wait_idle(600);
    }
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
