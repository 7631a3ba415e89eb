#include "core/session/live_reuse.h"

#include <algorithm>
#include <chrono>

namespace core {

ModelVariant live_pass_variant(const ModelVariant& v) {
  ModelVariant r = v;
  r.cache = CacheMode::Full;
  if (r.chunk <= 0) r.chunk = kLivePassChunk;
  return r;
}

int LivePassCache::reusable(const std::shared_ptr<const model::Model>& m,
                            const std::vector<int32_t>& tokens, const ModelVariant& v) const {
  const ModelVariant rv = live_pass_variant(v);
  const int native_kv = m->config().n_kv_heads;
  auto kv = [&](const ModelVariant& x) { return x.kv_heads > 0 ? x.kv_heads : native_kv; };
  if (!s_ || model_ != m || rv.chunk != run_v_.chunk || kv(rv) != kv(run_v_)) return 0;
  const std::vector<int32_t>& old = s_->tokens();
  const size_t same_ids =
      std::mismatch(old.begin(), old.end(), tokens.begin(), tokens.end()).first - old.begin();
  // At least one position runs (the pass needs a token to prefill).
  const int64_t keep =
      std::min<int64_t>({static_cast<int64_t>(same_ids),
                         model::rows_in_common(s_->plan(), plan_layers(m->config(), rv)),
                         static_cast<int64_t>(tokens.size()) - 1});
  return static_cast<int>(std::max<int64_t>(0, keep) / rv.chunk * rv.chunk);
}

void LivePassCache::clear() {
  s_.reset();
  model_.reset();
}

LivePass LivePassCache::run(const std::shared_ptr<const model::Model>& m,
                            const model::Tokenizer& tok, const std::vector<int32_t>& tokens,
                            const ModelVariant& v, const LiveControl& ctl) {
  LivePass p;
  p.tokens = tokens;
  for (int32_t id : tokens) p.labels.push_back(ui_token_label(tok, id));
  p.variant = v;
  const ModelVariant rv = live_pass_variant(v);
  const auto t0 = std::chrono::steady_clock::now();
  const int keep = reusable(m, tokens, v);
  if (keep > 0) {
    s_->set_control(ctl.cancel, ctl.progress);
    s_->truncate(keep, rv);
  } else {
    s_ = std::make_unique<model::Session>(m, live_run_options(rv, ctl, true, true));
    model_ = m;
  }
  run_v_ = rv;
  try {
    s_->prefill(std::vector<int32_t>(tokens.begin() + keep, tokens.end()));
  } catch (...) {
    clear();  // a cancelled or failed session holds nothing worth resuming
    throw;
  }
  p.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  p.reused = keep;
  p.plan = s_->plan();
  p.kv_heads = s_->kv_heads();
  p.capture = std::make_shared<model::Capture>(s_->capture());
  return p;
}

}  // namespace core
