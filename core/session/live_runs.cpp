#include "core/session/live_runs.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "core/io/assets.h"
#include "core/session/live_reuse.h"

namespace core {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

// Hands each finished layer to ctl.layer_done, with a copy of its heads if it is the kept one.
std::function<void(int, const model::Capture&)> live_layer_copier(const LiveControl& ctl,
                                                                  std::shared_ptr<MapPool> pool) {
  return
      [done = ctl.layer_done, kept = ctl.kept_layer, pool](int layer, const model::Capture& cap) {
        std::shared_ptr<const std::vector<model::AttentionCapture>> heads;
        if (kept < 0 || layer == kept) {
          std::vector<model::AttentionCapture> copy;
          for (const model::AttentionCapture& a : cap.attention)
            if (a.layer == layer) {
              copy.push_back({a.layer, a.head, a.n, pool ? pool->take() : std::vector<float>{}});
              copy.back().p.assign(a.p.begin(), a.p.end());
            }
          heads = MapPool::hold(pool, std::move(copy));
        }
        done(layer, cap, std::move(heads));
      };
}

model::RunOptions live_run_options(const ModelVariant& v, const LiveControl& ctl, bool attention,
                                   bool cache_norms, std::shared_ptr<MapPool> pool) {
  model::RunOptions o;
  o.variant = v;
  o.capture.attention = attention;
  o.capture.max_positions = 1 << 20;  // the caller already capped the prompt
  o.capture.cache = cache_norms;
  o.n_threads = ctl.n_threads;
  o.cancel = ctl.cancel;
  o.progress = ctl.progress;
  o.precision = ctl.precision;
  if (attention && ctl.layer_done) o.layer_done = live_layer_copier(ctl, pool);
  return o;
}

namespace {

model::RunOptions options(const ModelVariant& v, const LiveControl& ctl, bool attention,
                          bool cache_norms) {
  return live_run_options(v, ctl, attention, cache_norms);
}

int32_t argmax(const std::vector<float>& logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

void check(const LiveControl& ctl) {
  if (ctl.cancel && ctl.cancel->load(std::memory_order_relaxed)) throw Cancelled();
}

}  // namespace

std::string ui_token_label(const model::Tokenizer& tok, int32_t id) {
  std::string s = tok.token_label(id);
  // The UI font covers Latin-1 only: show spaces as a middle dot, newlines and tabs escaped.
  const std::pair<const char*, const char*> kSwap[] = {
      {"\xE2\x90\xA3", "\xC2\xB7"}, {"\xE2\x86\xB5", "\\n"}, {"\xE2\x87\xA5", "\\t"}};
  for (const auto& [from, to] : kSwap)
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + std::strlen(to)))
      s.replace(p, std::strlen(from), to);
  return s;
}

bool is_native(const ModelVariant& v, const model::Config& c) {
  return v.window <= 0 && (v.kv_heads <= 0 || v.kv_heads == c.n_kv_heads) && v.chunk <= 0 &&
         v.cache != CacheMode::Rolling && v.sparse_local <= 0 && v.segments.empty();
}

ModelVariant perplexity_setting(const ModelVariant& v, int kv_heads) {
  ModelVariant p;
  p.kv_heads = kv_heads;
  p.sparse_global = v.sparse_global;
  p.sparse_local = v.sparse_local;
  p.sparse_random = v.sparse_random;
  p.sparse_seed = v.sparse_seed;
  return p;
}

LivePass run_live_pass(const std::shared_ptr<const model::Model>& m, const model::Tokenizer& tok,
                       const std::vector<int32_t>& tokens, const ModelVariant& v,
                       const LiveControl& ctl) {
  return LivePassCache().run(m, tok, tokens, v, ctl);  // from scratch
}

double live_perplexity(const std::shared_ptr<const model::Model>& m,
                       const std::vector<int32_t>& tokens, const ModelVariant& v,
                       const LiveControl& ctl) {
  if (tokens.size() < 2) throw std::invalid_argument("perplexity needs at least 2 tokens");
  ModelVariant run_v = v;
  run_v.cache = CacheMode::Full;
  model::Session s(m, options(run_v, ctl, false, false));
  const std::vector<float> logits = s.prefill(tokens, true);
  const int vocab = m->config().vocab;
  double nll = 0;
  for (size_t t = 0; t + 1 < tokens.size(); ++t) {
    const float* z = logits.data() + t * vocab;
    const float mx = *std::max_element(z, z + vocab);
    double sum = 0;
    for (int i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(z[i] - mx));
    nll += -(static_cast<double>(z[tokens[t + 1]] - mx) - std::log(sum));
  }
  return std::exp(nll / static_cast<double>(tokens.size() - 1));
}

LiveSpeed measure_decode_speed(const std::shared_ptr<const model::Model>& m,
                               const std::vector<int32_t>& prompt, int steps,
                               const LiveControl& ctl) {
  LiveSpeed sp;
  sp.prompt_tokens = static_cast<int>(prompt.size());
  sp.steps = steps;
  for (CacheMode mode : {CacheMode::Full, CacheMode::None}) {
    ModelVariant v;
    v.cache = mode;
    LiveControl quiet = ctl;
    quiet.progress = nullptr;
    model::Session s(m, options(v, quiet, false, false));
    int32_t next = argmax(s.prefill(prompt));
    const auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i) {
      next = argmax(s.decode(next));
      if (ctl.progress) ctl.progress((mode == CacheMode::None ? steps : 0) + i + 1, 2 * steps);
    }
    const double s_elapsed = ms_since(t0) / 1000.0;
    (mode == CacheMode::Full ? sp.cache_tok_s : sp.none_tok_s) = steps / s_elapsed;
  }
  return sp;
}

int ring_generation_window(const ModelVariant& v, int fallback) {
  return v.window > 0 ? v.window : std::max(1, fallback);
}

size_t cache_held_bytes(const model::Capture& cap, int head_dim) {
  size_t b = 0;
  for (const model::CacheCapture& cc : cap.cache) {
    const size_t filled = static_cast<size_t>(
        std::count_if(cc.slot_pos.begin(), cc.slot_pos.end(), [](int32_t p) { return p >= 0; }));
    b += filled * cc.n_kv_heads * head_dim * 2 * sizeof(float);
  }
  return b;
}

PagedUsage paged_usage(const model::Capture& cap, int head_dim) {
  PagedUsage u;
  for (const model::CacheCapture& cc : cap.cache) {
    if (cc.block <= 0) continue;
    u.block = cc.block;
    u.blocks_in_use += cc.blocks_in_use;
    u.pool_blocks += cc.pool_blocks;
    u.tokens += cc.tokens_in_blocks;
    u.block_bytes = static_cast<int64_t>(cc.block) * cc.n_kv_heads * head_dim * 2 * sizeof(float);
  }
  return u;
}

RingGenerator::RingGenerator(std::shared_ptr<const model::Model> m, const model::Tokenizer& tok,
                             const std::vector<int32_t>& prompt, ModelVariant v, int window,
                             const LiveControl& ctl)
    : tok_(tok) {
  ModelVariant rv = v;
  rv.cache = CacheMode::Rolling;
  rv.window = window;
  rv.chunk = 0;
  if (v.window <= 0) rv.window_layers.clear();
  // A ring of W slots would evict a sparse pattern's global keys, so the generation runs the
  // window alone; the pass, its perplexity and the attention views carry the pattern.
  rv.sparse_global = rv.sparse_local = rv.sparse_random = 0;
  // Full attention, growing cache: the reference the ring must match for N <= W. A paged
  // setting keeps its block table here (paged equals full bit for bit), so the memory view
  // follows its blocks step by step.
  ModelVariant fv;
  fv.kv_heads = v.kv_heads;
  if (v.cache == CacheMode::Paged) {
    fv.cache = CacheMode::Paged;
    fv.block = v.block;
  }
  LiveControl quiet = ctl;
  quiet.progress = nullptr;
  ring_ = std::make_unique<model::Session>(m, options(rv, ctl, false, true));
  full_ = std::make_unique<model::Session>(m, options(fv, quiet, false, false));
  gen_.window = window;
  gen_.n_layers = ring_->config().n_layers;
  gen_.kv_heads = ring_->kv_heads();
  gen_.head_dim = ring_->config().head_dim;
  for (const model::LayerPlan& p : ring_->plan()) gen_.layer_slots.push_back(p.cache_slots);
  gen_.convention = rv.window_convention;
  for (size_t l = 0; l < ring_->plan().size(); ++l)
    if (ring_->plan()[l].cache_slots > 0) {
      gen_.ring_layer = static_cast<int>(l);
      break;
    }
  ring_logits_ = ring_->prefill(prompt);
  check(ctl);
  full_logits_ = full_->prefill(prompt);
  gen_.ring_tokens = prompt;
  gen_.full_tokens = prompt;
  for (int32_t id : prompt) gen_.labels.push_back(ui_token_label(tok_, id));
  record(-1, -1);
}

void RingGenerator::step(const LiveControl& ctl) {
  const int32_t a = argmax(ring_logits_), b = argmax(full_logits_);
  ring_logits_ = ring_->decode(a);
  check(ctl);
  full_logits_ = full_->decode(b);
  gen_.ring_tokens.push_back(a);
  gen_.full_tokens.push_back(b);
  gen_.labels.push_back(ui_token_label(tok_, a));
  gen_.ring_text += tok_.token_text(a);
  gen_.full_text += tok_.token_text(b);
  if (gen_.first_divergence < 0 && a != b)
    gen_.first_divergence = static_cast<int>(gen_.ring_tokens.size()) - 1;
  record(a, b);
}

void RingGenerator::record(int32_t token, int32_t full_token) {
  GenStep st;
  st.n_tokens = static_cast<int>(gen_.ring_tokens.size());
  st.token = token;
  st.full_token = full_token;
  if (token >= 0) st.label = ui_token_label(tok_, token);
  if (full_token >= 0) st.full_label = ui_token_label(tok_, full_token);
  const int hd = ring_->config().head_dim;
  st.ring = ring_->capture().cache;
  st.ring_bytes = ring_->capture().cache_bytes;
  st.ring_held = cache_held_bytes(ring_->capture(), hd);
  st.full_bytes = full_->capture().cache_bytes;
  st.full_held = cache_held_bytes(full_->capture(), hd);
  st.full_paged = paged_usage(full_->capture(), hd);
  gen_.steps.push_back(std::move(st));
}

std::string default_ppl_text_path() {
  return asset_path("texts/ppl.txt");
}

}  // namespace core
