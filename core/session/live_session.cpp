#include "core/session/live_session.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/io/atomic_write.h"
#include "core/model/tokenizer_gguf.h"
#include "core/session/live_head.h"
#include "core/session/live_packed.h"
#include "core/session/live_progress.h"
#include "core/session/live_reuse.h"
#include "core/session/live_runs.h"
#include "core/session/live_thumbs.h"

namespace core {
namespace {

bool same_variant(const ModelVariant& a, const ModelVariant& b) {
  return a.window == b.window && a.window_convention == b.window_convention &&
         a.window_layers == b.window_layers && a.kv_heads == b.kv_heads && a.cache == b.cache &&
         a.chunk == b.chunk && a.block == b.block && a.sparse_global == b.sparse_global &&
         a.sparse_local == b.sparse_local && a.sparse_random == b.sparse_random &&
         a.sparse_seed == b.sparse_seed && a.segments == b.segments;
}

// The attention-relevant part of a variant: the pass ignores the cache mode.
bool same_attention(const ModelVariant& a, const ModelVariant& b) {
  ModelVariant x = a, y = b;
  x.cache = y.cache = CacheMode::Full;
  return same_variant(x, y);
}

std::string file_name(const std::string& path) {
  const size_t s = path.find_last_of('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

// A long pass without its per-layer means (they are most of its bytes).
std::shared_ptr<const LivePass> without_means(const LivePass& p) {
  auto slim = std::make_shared<LivePass>(p);
  auto cap = std::make_shared<model::Capture>();
  cap->n_tokens = p.capture->n_tokens;
  cap->cache = p.capture->cache;
  cap->cache_bytes = p.capture->cache_bytes;
  for (const model::AttentionCapture& a : p.capture->attention)
    if (a.head != kLayerMean) cap->attention.push_back(a);
  slim->capture = std::move(cap);
  return slim;
}

}  // namespace

struct LiveSession::Request {
  bool load = false;  // (re)load model_path
  bool pass = false;  // prompt or setting changed
  bool ring_changed = false;
  std::string model_path;  // a catalog name or a GGUF path
  std::string prompt;
  ModelVariant variant;
  int ring_window = 16;
  int focus_layer = 0;
  bool reset_gen = false;
  int steps = 0;
  bool speed = false;
  bool head = false;  // the traced head changed
};

struct LiveSession::Worker {
  std::shared_ptr<const model::Model> model;
  std::unique_ptr<model::Tokenizer> tok;
  std::string prompt;
  ModelVariant variant;
  int ring_window = 16;
  int focus_layer = 0;
  std::vector<int32_t> tokens;
  bool truncated = false;  // tokens cut to max_tokens or the segments
  std::shared_ptr<const LivePass> pass, native;
  LivePassCache pass_cache, draft_cache, native_cache;  // the last passes' sessions, to resume
  std::shared_ptr<const LivePass> draft;                // the draft the next exact pass replaces
  DraftTimer draft_timer;                               // this model's last draft/exact pair
  std::unique_ptr<RingGenerator> gen;
  std::vector<int32_t> ppl_tokens;
  double ppl_native = 0;                    // 0 = not computed for this model
  std::optional<ModelVariant> ppl_setting;  // what the last variant perplexity ran with
};

LiveSession::LiveSession(LiveSessionOptions opts)
    : opts_(std::move(opts)),
      result_(std::make_shared<LiveResult>()),
      w_(std::make_unique<Worker>()) {
  if (opts_.ppl_text_path.empty()) opts_.ppl_text_path = default_ppl_text_path();
  thread_ = std::thread([this] { worker_loop(); });
}

LiveSession::~LiveSession() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    cancel_ = true;
    hard_cancel_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void LiveSession::update(const LiveRun& run) {
  const int rw = run.ring_window;
  const bool model_changed = !seen_any_ || run.model != seen_model_;
  const bool pass_changed = !seen_any_ || run.prompt != seen_prompt_ ||
                            !same_attention(run.variant, seen_variant_) ||
                            (run.focus_layer != seen_focus_ && focused_pass_shown());
  const bool ring_changed =
      seen_any_ && (rw != seen_ring_window_ || !same_variant(run.variant, seen_variant_));
  if (!model_changed && !pass_changed && !ring_changed) return;
  seen_any_ = true;
  seen_model_ = run.model;
  seen_prompt_ = run.prompt;
  seen_variant_ = run.variant;
  seen_ring_window_ = rw;
  seen_focus_ = run.focus_layer;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!pending_) pending_ = std::make_unique<Request>();
    Request& r = *pending_;
    if (model_changed) {
      r.load = true;
      r.model_path = run.model;  // the worker resolves catalog names
    }
    r.pass = r.pass || pass_changed;
    r.ring_changed = r.ring_changed || ring_changed || pass_changed;
    r.prompt = run.prompt;
    r.variant = run.variant;
    r.ring_window = rw;
    r.focus_layer = run.focus_layer;
    if (model_changed || pass_changed) {
      r.steps = 0;  // steps asked for the old prompt are void
      if (working_) cancel_ = true;
      if (working_ && model_changed) hard_cancel_ = true;
    }
  }
  cv_.notify_all();
}

void LiveSession::step(int n) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!pending_) pending_ = std::make_unique<Request>();
    pending_->steps += n;
    pending_->prompt = seen_prompt_;
    pending_->variant = seen_variant_;
    pending_->ring_window = seen_ring_window_;
    pending_->focus_layer = seen_focus_;
  }
  cv_.notify_all();
}

void LiveSession::reset_generation() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!pending_) pending_ = std::make_unique<Request>();
    pending_->reset_gen = true;
    pending_->steps = 0;
    pending_->prompt = seen_prompt_;
    pending_->variant = seen_variant_;
    pending_->ring_window = seen_ring_window_;
    pending_->focus_layer = seen_focus_;
  }
  cv_.notify_all();
}

void LiveSession::measure_speed() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!pending_) pending_ = std::make_unique<Request>();
    pending_->speed = true;
    pending_->prompt = seen_prompt_;
    pending_->variant = seen_variant_;
    pending_->ring_window = seen_ring_window_;
    pending_->focus_layer = seen_focus_;
  }
  cv_.notify_all();
}

bool LiveSession::focused_pass_shown() const {
  std::lock_guard<std::mutex> lk(mu_);
  return result_->pass && result_->pass->focus_layer >= 0;
}

void LiveSession::trace_head(int layer, int head) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (layer == trace_layer_ && head == trace_head_) return;
    trace_layer_ = layer;
    trace_head_ = head;
    if (!pending_) pending_ = std::make_unique<Request>();
    pending_->head = true;
    pending_->prompt = seen_prompt_;
    pending_->variant = seen_variant_;
    pending_->ring_window = seen_ring_window_;
    pending_->focus_layer = seen_focus_;
  }
  cv_.notify_all();
}

std::shared_ptr<const LiveResult> LiveSession::result() const {
  std::lock_guard<std::mutex> lk(mu_);
  return result_;
}

LiveProgress LiveSession::progress() const {
  std::lock_guard<std::mutex> lk(mu_);
  return progress_;
}

bool LiveSession::idle() const {
  std::lock_guard<std::mutex> lk(mu_);
  return !working_ && !pending_;
}

bool LiveSession::wait_idle(double timeout_s) const {
  std::unique_lock<std::mutex> lk(mu_);
  return cv_.wait_for(lk, std::chrono::duration<double>(timeout_s),
                      [this] { return !working_ && !pending_; });
}

void LiveSession::set_progress(bool busy, float fraction, const std::string& stage) {
  std::lock_guard<std::mutex> lk(mu_);
  progress_.busy = busy;
  progress_.fraction = fraction;
  progress_.stage = stage;
}

void LiveSession::publish(const std::function<void(LiveResult&)>& edit) {
  std::lock_guard<std::mutex> lk(mu_);
  auto next = std::make_shared<LiveResult>(*result_);
  edit(*next);
  next->revision = result_->revision + 1;
  result_ = std::move(next);
}

// A partial pass copies every layer's thumbnails (270 maps for SmolLM2): one a 60 Hz frame
// is all the views can show. Publishing each of a 128-token draft's 30 layers (~3 ms apart)
// cost ~5 ms of its ~90 (medians of 8 passes, alternating, in a harness).
constexpr double kPartialEveryMs = 1000.0 / 60;

// The pass's control: a draft stops only for a new model or shutdown; the finished layers are
// published as LiveResult::partial through `builder` (made here): the first at once, then at
// most one a frame.
LiveControl LiveSession::pass_control(const std::string& stage, model::Precision precision,
                                      const DraftChoice& choice,
                                      std::shared_ptr<PartialPassBuilder>& builder) {
  Worker& w = *w_;
  LiveControl ctl = control(stage);
  ctl.precision = precision;
  if (precision != model::Precision::Exact) ctl.cancel = &hard_cancel_;
  LivePass head;
  head.tokens = w.tokens;
  for (int32_t id : w.tokens) head.labels.push_back(ui_token_label(*w.tok, id));
  head.variant = w.variant;
  head.precision = precision;
  head.draft_choice = choice;
  if (long_capture(static_cast<int>(w.tokens.size())))  // the maps a long pass keeps
    head.focus_layer = std::clamp(w.focus_layer, 0, w.model->config().n_layers - 1);
  head.plan = model::plan_layers(w.model->config(), w.variant);
  head.kv_heads = w.variant.kv_heads > 0 ? w.variant.kv_heads : w.model->config().n_kv_heads;
  builder = std::make_shared<PartialPassBuilder>(std::move(head), w.model->config());
  ctl.layer_done = [this, b = builder](
                       int layer, const model::Capture& cap,
                       std::shared_ptr<const std::vector<model::AttentionCapture>> h) {
    if (auto part = b->add_at_most_every(kPartialEveryMs, layer, cap, std::move(h)))
      publish([&](LiveResult& res) { res.partial = part; });
  };
  // The layer the scene shows (clamped as the view clamps it); the others as thumbnails.
  ctl.kept_layer = std::clamp(w.focus_layer, 0, w.model->config().n_layers - 1);
  return ctl;
}

bool LiveSession::superseded() const {
  std::lock_guard<std::mutex> lk(mu_);
  return pending_ && (pending_->pass || pending_->load);
}

// Polls the cancel flag and reports progress under the stage's name.
LiveControl LiveSession::control(const std::string& stage) {
  LiveControl ctl;
  ctl.cancel = &cancel_;
  ctl.n_threads = opts_.n_threads;
  set_progress(true, 0, stage);
  ctl.progress = [this, stage](int done, int total) {
    set_progress(true, total > 0 ? static_cast<float>(done) / total : 0, stage);
  };
  return ctl;
}

bool LiveSession::load_stage(const std::string& path) {
  Worker& w = *w_;
  try {
    // Resolved here, where a bad catalog becomes the red load error like a bad file.
    const std::string file = model::resolve_model_path(path);
    set_progress(true, -1, "loading " + file_name(file));
    auto m = model::Model::load(file, opts_.n_threads);
    auto tok = std::make_unique<model::Tokenizer>(model::load_tokenizer(m->gguf()));
    w = Worker{};
    w.model = std::move(m);
    w.tok = std::move(tok);
    model::RunOptions probe;
    model::Session s(w.model, probe);
    const std::string backend = s.backend_name();
    publish([&](LiveResult& res) {
      res.model_path = w.model->path();
      res.model_name = w.model->config().name;
      res.backend = backend;
      res.config = w.model->config();
      res.load_seconds = w.model->load_seconds();
      res.error.clear();
      res.pass.reset();
      res.native.reset();
      res.generation.reset();
      res.perplexity.reset();
      res.speed.reset();
    });
    return true;
  } catch (const Cancelled&) {
    throw;
  } catch (const std::exception& e) {
    const std::string msg = std::string("cannot load ") + path + ": " + e.what() +
                            (w.model ? " (keeping " + file_name(w.model->path()) + ")" : "");
    publish([&](LiveResult& res) { res.error = msg; });
    return false;
  }
}

// The prompt's tokens (cut to max_tokens, never empty); a new prompt or focus drops the native
// pass.
void LiveSession::prompt_stage() {
  Worker& w = *w_;
  w.gen.reset();
  std::vector<int32_t> tokens = w.tok->encode(w.prompt);
  w.truncated = false;
  if (static_cast<int>(tokens.size()) > opts_.max_tokens) {
    tokens.resize(opts_.max_tokens);
    w.truncated = true;
  }
  if (tokens.empty()) tokens.push_back(w.tok->bos() >= 0 ? w.tok->bos() : 0);
  fit_to_segments(tokens, w.variant.segments, &w.truncated);
  const bool focus_moved =
      w.native && w.native->focus_layer >= 0 && w.native->focus_layer != w.focus_layer;
  if (tokens != w.tokens || focus_moved) w.native.reset();
  w.tokens = tokens;
}

// The pass of the prompt's tokens with every attention, publishing the layers done after each
// layer; a draft pass keeps the exact one's place warm. `choice`: why a draft runs or not
// (live_draft.h); an exact pass after its draft times the pair.
void LiveSession::pass_stage(model::Precision precision, DraftChoice choice) {
  Worker& w = *w_;
  const bool draft = precision != model::Precision::Exact;
  // A long prompt's draft keeps its focus heads and block maxima but not the per-layer means
  // (18 maps of 4096 rows are 600 MB, held twice while the exact pass runs): the rollout
  // waits for the exact pass.
  const bool with_mean = !(draft && long_capture(static_cast<int>(w.tokens.size())));
  std::shared_ptr<LivePass> pass;
  std::shared_ptr<const DraftDelta> delta;
  // A long native pass made for difference mode has no per-layer means (the rollout's).
  const bool native_whole =
      w.native && (w.native->focus_layer < 0 || w.native->capture->find(0, kLayerMean) != nullptr);
  if (!is_native(w.variant, w.model->config()) && native_whole && w.native->focus_layer >= 0)
    w.native = without_means(*w.native);  // difference mode reads its focus heads only
  if (is_native(w.variant, w.model->config()) && native_whole) {
    if (draft) return;  // the exact pass below costs nothing: no draft to show first
    // The native pass depends on the prompt and the model only: back to native costs nothing.
    pass = std::make_shared<LivePass>(*w.native);
    pass->variant = w.variant;
    pass->reused = static_cast<int>(pass->tokens.size());
    pass->ms = 0;
  } else {
    std::shared_ptr<PartialPassBuilder> builder;
    const LiveControl ctl =
        pass_control(draft ? std::string("forward pass, ") + model::precision_name(precision)
                           : std::string("forward pass"),
                     precision, choice, builder);
    // Drafts and exact passes resume their own kind (a draft's K/V are not the exact ones).
    LivePassCache& cache = draft ? w.draft_cache : w.pass_cache;
    pass = std::make_shared<LivePass>(
        cache.run(w.model, *w.tok, w.tokens, w.variant, ctl, w.focus_layer, with_mean));
    // A long pass brings its block maxima; otherwise the builder made every layer's
    // thumbnails as the layers finished.
    if (!pass->thumbs)
      pass->thumbs = builder && builder->layers_done() == w.model->config().n_layers
                         ? builder->thumbs()
                         : std::make_shared<AttentionThumbs>(build_attention_thumbs(
                               *pass, nullptr, w.model->config(), kLiveThumbCells));
    if (!draft && w.draft) {
      delta = draft_delta(*w.draft, *pass, w.model->config());
      // A pair only when both computed the same positions: the draft then did the same work.
      if (delta && w.draft->reused == pass->reused) {
        w.draft_timer.add_pair(w.draft->ms - w.draft->setup_ms, pass->ms - pass->setup_ms,
                               static_cast<int>(pass->tokens.size()));
        choice.ratio = w.draft_timer.ratio();
      }
    }
  }
  pass->truncated = w.truncated;
  pass->draft_choice = choice;
  w.draft = draft ? pass : nullptr;
  w.pass = pass;
  if (!draft && is_native(w.variant, w.model->config())) w.native = pass;
  publish([&](LiveResult& res) {
    res.pass = w.pass;
    res.partial.reset();
    res.draft_delta = delta;
    res.native = w.native;
    res.prompt = w.prompt;
    res.generation.reset();
    res.diff_thumbs.reset();
    res.packed.reset();
    res.head_vectors.reset();
    res.error.clear();
    if (res.perplexity &&
        !(res.perplexity->setting == perplexity_setting(w.pass->variant, w.pass->kv_heads)))
      res.perplexity.reset();
  });
}

// The native pass the difference mode compares against, and the difference thumbnails.
void LiveSession::native_stage() {
  Worker& w = *w_;
  if (!w.native) {
    auto native = std::make_shared<LivePass>(
        w.native_cache.run(w.model, *w.tok, w.tokens, {},
                           control("native pass (for difference mode)"), w.focus_layer, false));
    if (!native->thumbs)
      native->thumbs = std::make_shared<AttentionThumbs>(
          build_attention_thumbs(*native, nullptr, w.model->config(), kLiveThumbCells));
    w.native = native;
  }
  if (w.native == w.pass) return;
  if (w.pass->focus_layer >= 0) {  // a long pass's thumbnails are its own block maxima
    publish([&](LiveResult& res) { res.native = w.native; });
    return;
  }
  auto diff = std::make_shared<AttentionThumbs>(
      build_attention_thumbs(*w.pass, w.native.get(), w.model->config(), kLiveThumbCells));
  publish([&](LiveResult& res) {
    res.native = w.native;
    res.diff_thumbs = diff;
  });
}

// Packed prompts: the packed pass against each segment run alone.
void LiveSession::packed_stage() {
  Worker& w = *w_;
  if (w.variant.segments.empty()) return;
  auto packed = std::make_shared<LivePacked>(
      compare_packed(w.model, w.tokens, w.variant, control("packed vs separate prompts")));
  publish([&](LiveResult& res) { res.packed = packed; });
}

// Perplexity under the pass's pooled K/V heads and sparse pattern next to the native
// model's, when the pass pools or runs sparse.
void LiveSession::perplexity_stage() {
  Worker& w = *w_;
  const ModelVariant pv = perplexity_setting(w.pass->variant, w.pass->kv_heads);
  if (is_native(pv, w.model->config()) || w.ppl_setting == pv) return;
  if (w.ppl_tokens.empty()) {
    w.ppl_tokens = w.tok->encode(read_file(opts_.ppl_text_path));
    if (static_cast<int>(w.ppl_tokens.size()) > opts_.ppl_max_tokens)
      w.ppl_tokens.resize(opts_.ppl_max_tokens);
  }
  if (w.ppl_native == 0)
    w.ppl_native = live_perplexity(w.model, w.ppl_tokens, {}, control("perplexity, native"));
  auto ppl = std::make_shared<LivePerplexity>();
  ppl->text_path = opts_.ppl_text_path;
  ppl->n_tokens = static_cast<int>(w.ppl_tokens.size());
  ppl->kv_heads = w.pass->kv_heads;
  ppl->setting = pv;
  ppl->native = w.ppl_native;
  const std::string what =
      pv.sparse_local > 0 ? "sparse pattern" : std::to_string(pv.kv_heads) + " KV heads";
  ppl->variant = live_perplexity(w.model, w.ppl_tokens, pv, control("perplexity, " + what));
  w.ppl_setting = pv;
  publish([&](LiveResult& res) { res.perplexity = ppl; });
}

// Ring generation: restart when asked (or when its setting changed), then n greedy steps.
void LiveSession::generation_stage(Request& r) {
  Worker& w = *w_;
  if (r.ring_changed && w.gen) {
    w.gen.reset();
    r.reset_gen = true;
  }
  if (r.reset_gen || (r.steps > 0 && !w.gen)) {
    w.gen = std::make_unique<RingGenerator>(w.model, *w.tok, w.tokens, w.variant, w.ring_window,
                                            control("ring generation: prefill"));
    publish([&](LiveResult& res) {
      res.generation = std::make_shared<LiveGeneration>(w.gen->state());
    });
  }
  const LiveControl ctl = control("generating");
  for (int i = 0; i < r.steps; ++i) {
    set_progress(true, static_cast<float>(i) / r.steps, "generating");
    w.gen->step(ctl);
    publish([&](LiveResult& res) {
      res.generation = std::make_shared<LiveGeneration>(w.gen->state());
    });
  }
}

void LiveSession::speed_stage() {
  Worker& w = *w_;
  auto sp = std::make_shared<LiveSpeed>(measure_decode_speed(w.model, w.tokens, opts_.speed_steps,
                                                             control("tokens/s: cache vs none")));
  publish([&](LiveResult& res) { res.speed = sp; });
}

// The traced head's q, k, v for the current pass (none when no target or it does not fit).
void LiveSession::head_stage() {
  Worker& w = *w_;
  int layer = -1, head = -1;
  {
    std::lock_guard<std::mutex> lk(mu_);
    layer = trace_layer_;
    head = trace_head_;
  }
  if (layer < 0) return;  // never asked for: nothing to publish
  const model::Config& c = w.model->config();
  std::shared_ptr<const LiveHeadVectors> hv;
  if (w.pass && layer >= 0 && layer < c.n_layers && head >= 0 && head < c.n_heads) {
    try {
      hv = std::make_shared<LiveHeadVectors>(
          capture_head_vectors(w.model, w.tokens, w.variant, layer, head,
                               control("flash trace: layer " + std::to_string(layer) + ", head " +
                                       std::to_string(head))));
    } catch (const std::invalid_argument&) {
      // A setting the trace does not follow: the view keeps its synthetic row.
    }
  }
  publish([&](LiveResult& res) { res.head_vectors = hv; });
}

// One request, stage by stage: load, pass (+ native, perplexity), generation, speed.
void LiveSession::process(Request& r) {
  Worker& w = *w_;
  try {
    const bool loaded = r.load && load_stage(r.model_path);
    if (!w.model) return;
    w.prompt = r.prompt;
    w.variant = r.variant;
    w.ring_window = r.ring_window;
    w.focus_layer = r.focus_layer;
    const bool pass_ran = loaded || r.pass || !w.pass;
    if (pass_ran) {
      prompt_stage();
      const DraftChoice choice =
          w.draft_timer.choose(opts_.draft_first, static_cast<int>(w.tokens.size()));
      if (choice.draft()) {
        pass_stage(opts_.draft, choice);
        if (superseded()) {  // the exact pass of a stale setting is not worth starting
          publish([](LiveResult& res) { ++res.cancelled; });
          return;
        }
      }
      pass_stage(model::Precision::Exact, choice);
      native_stage();
      packed_stage();
      perplexity_stage();
    }
    if (pass_ran || r.head) head_stage();
    generation_stage(r);
    if (r.speed) speed_stage();
  } catch (const Cancelled&) {
    w.gen.reset();  // a newer request is pending; it rebuilds what it needs
    publish([](LiveResult& res) {
      ++res.cancelled;
      res.partial.reset();
    });
  } catch (const std::exception& e) {
    w.gen.reset();
    const std::string msg = e.what();
    publish([&](LiveResult& res) { res.error = msg; });
  }
}

void LiveSession::worker_loop() {
  for (;;) {
    Request r;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [this] { return stop_ || pending_; });
      if (stop_) return;
      r = *pending_;
      pending_.reset();
      working_ = true;
      cancel_ = false;
      hard_cancel_ = false;
    }
    process(r);
    {
      std::lock_guard<std::mutex> lk(mu_);
      working_ = false;
      progress_ = LiveProgress{};
    }
    cv_.notify_all();
  }
}

}  // namespace core
