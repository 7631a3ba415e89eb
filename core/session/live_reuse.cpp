#include "core/session/live_reuse.h"

#include <algorithm>
#include <chrono>
#include <numeric>

namespace core {

ModelVariant live_pass_variant(const ModelVariant& v) {
  ModelVariant r = v;
  if (r.cache != CacheMode::Paged) r.cache = CacheMode::Full;  // a paged pass keeps its blocks
  if (r.chunk <= 0) r.chunk = kLivePassChunk;
  return r;
}

// The last pass's session and what its capture was: all maps (focus -1) or a focus layer.
struct LivePassCache::Kept {
  std::shared_ptr<const model::Model> model;
  ModelVariant run_v;
  model::Precision precision = model::Precision::Exact;
  int focus = -1;
  bool with_mean = true;
  std::unique_ptr<model::Session> s;
  int n_threads = 0;
  std::unique_ptr<LongCapture> long_cap;           // the pass in flight (long prompts)
  std::shared_ptr<const model::Capture> last_cap;  // the last pass's capture (its means)
  std::vector<std::vector<float>> last_blocks;     // the last pass's block maxima
  int last_nb = 0;
  std::shared_ptr<MapPool> pool = std::make_shared<MapPool>();  // maps the views let go of
};

LivePassCache::LivePassCache() : k_(std::make_unique<Kept>()) {}
LivePassCache::~LivePassCache() = default;
LivePassCache::LivePassCache(LivePassCache&&) noexcept = default;
LivePassCache& LivePassCache::operator=(LivePassCache&&) noexcept = default;

namespace {

int focus_of(const model::Config& c, size_t n, int focus_layer) {
  return long_capture(static_cast<int>(n)) ? std::clamp(focus_layer, 0, c.n_layers - 1) : -1;
}

}  // namespace

bool LivePassCache::same_session(const std::shared_ptr<const model::Model>& m,
                                 const ModelVariant& rv, int focus, bool with_mean,
                                 model::Precision precision) const {
  const Kept& k = *k_;
  const int native_kv = m->config().n_kv_heads;
  auto kv = [&](const ModelVariant& x) { return x.kv_heads > 0 ? x.kv_heads : native_kv; };
  return k.s && k.model == m && precision == k.precision && kv(rv) == kv(k.run_v) &&
         rv.cache == CacheMode::Full && k.run_v.cache == CacheMode::Full && focus == k.focus &&
         (focus < 0 || with_mean == k.with_mean);
}

int LivePassCache::reusable(const std::shared_ptr<const model::Model>& m,
                            const std::vector<int32_t>& tokens, const ModelVariant& v,
                            int focus_layer, bool with_mean, model::Precision precision) const {
  const Kept& k = *k_;
  const ModelVariant rv = live_pass_variant(v);
  const int focus = focus_of(m->config(), tokens.size(), focus_layer);
  // The kept rows must be the same products (a draft's K/V are not the exact pass's), summed
  // in the same chunks.
  if (!same_session(m, rv, focus, with_mean, precision) || !k.last_cap || rv.chunk != k.run_v.chunk)
    return 0;
  const std::vector<int32_t>& old = k.s->tokens();
  const size_t same_ids =
      std::mismatch(old.begin(), old.end(), tokens.begin(), tokens.end()).first - old.begin();
  // At least one position runs (the pass needs a token to prefill).
  const int64_t keep =
      std::min<int64_t>({static_cast<int64_t>(same_ids),
                         model::rows_in_common(k.s->plan(), plan_layers(m->config(), rv)),
                         static_cast<int64_t>(tokens.size()) - 1});
  // Resumed at a chunk start (the same sums as from scratch) and, for the block maxima of a
  // long prompt, at a block start.
  const int step = focus >= 0 ? std::lcm(rv.chunk, kLongThumbBlock) : rv.chunk;
  return static_cast<int>(std::max<int64_t>(0, keep) / step * step);
}

void LivePassCache::clear() {
  k_ = std::make_unique<Kept>();
}

LivePass LivePassCache::run(const std::shared_ptr<const model::Model>& m,
                            const model::Tokenizer& tok, const std::vector<int32_t>& tokens,
                            const ModelVariant& v, const LiveControl& ctl, int focus_layer,
                            bool with_mean) {
  LivePass p;
  p.tokens = tokens;
  for (int32_t id : tokens) p.labels.push_back(ui_token_label(tok, id));
  p.variant = v;
  const ModelVariant rv = live_pass_variant(v);
  const model::Config& c = m->config();
  const auto t0 = std::chrono::steady_clock::now();
  const int keep = reusable(m, tokens, v, focus_layer, with_mean, ctl.precision);
  const int focus = focus_of(c, tokens.size(), focus_layer);
  Kept& k = *k_;
  if (same_session(m, rv, focus, with_mean, ctl.precision)) {
    // Kept from position `keep` (0: the session's caches and scratch serve a pass from scratch).
    k.s->set_control(ctl.cancel, ctl.progress,
                     ctl.layer_done ? live_layer_copier(ctl, k.pool) : nullptr);
    k.s->truncate(keep, rv);
  } else {
    model::RunOptions o = live_run_options(rv, ctl, true, true, k.pool);
    o.attention_only = true;  // a live pass shows attention; nothing reads its logits
    if (focus >= 0) {
      o.capture.layers = {focus};
      // The hook reads the pass in flight through the Kept, which outlives the session.
      Kept* kp = &k;
      o.on_rows = [kp](int layer, const int32_t* pos, int n_q, float* const* rows) {
        kp->long_cap->add_rows(layer, pos, n_q, rows, kp->n_threads);
      };
    }
    k.s = std::make_unique<model::Session>(m, o);
    k.model = m;
    k.precision = ctl.precision;
    k.focus = focus;
    k.with_mean = with_mean;
  }
  // What the next pass can write into: the session's maps and one layer's copies. A long
  // prompt's are not kept: 18 maps of 4096 rows would hold 600 MB while the app idles.
  k.pool->set_limit(focus >= 0 ? 0 : k.s->capture().attention.size() + c.n_heads);
  if (keep == 0) {
    k.last_cap.reset();  // its maps return to the pool unless a view still shows them
    k.last_blocks.clear();
  }
  std::vector<std::vector<float>> spare = k.pool->take_all();
  k.s->recycle_maps(spare);
  for (std::vector<float>& b : spare) k.pool->give(std::move(b));
  if (keep > 0) k.s->restore_rows(*k.last_cap, keep);  // the session handed its maps to it
  k.run_v = rv;
  k.n_threads = ctl.n_threads;
  k.long_cap.reset();
  if (focus >= 0) {
    k.long_cap = std::make_unique<LongCapture>(static_cast<int>(tokens.size()), c,
                                               plan_layers(c, rv), with_mean);
    if (keep > 0 && k.last_cap) k.long_cap->keep_rows(*k.last_cap, k.last_blocks, k.last_nb, keep);
  }
  const double setup0 = k.s->setup_ms();
  try {
    k.s->prefill(std::vector<int32_t>(tokens.begin() + keep, tokens.end()));
  } catch (...) {
    clear();  // a cancelled or failed session holds nothing worth resuming
    throw;
  }
  p.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  p.setup_ms = k.s->setup_ms() - setup0;
  p.reused = keep;
  p.precision = ctl.precision;
  p.layers_done = c.n_layers;
  p.focus_layer = focus;
  p.plan = k.s->plan();
  p.kv_heads = k.s->kv_heads();
  model::Capture taken = k.s->take_capture();
  if (k.long_cap) {
    p.thumbs = std::make_shared<AttentionThumbs>(k.long_cap->thumbs(kLiveThumbCells));
    for (model::AttentionCapture& mean : k.long_cap->mean)
      taken.attention.push_back(std::move(mean));
    k.last_blocks = std::move(k.long_cap->blocks);
    k.last_nb = k.long_cap->nb;
    k.long_cap.reset();
  }
  auto cap = MapPool::hold(k.pool, std::move(taken));
  k.last_cap = cap;
  p.capture = std::move(cap);
  return p;
}

}  // namespace core
