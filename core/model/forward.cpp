#include "core/model/forward.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <initializer_list>
#include <stdexcept>

#include "core/attention/attn_math.h"
#include "core/attention/cpu_attention.h"
#include "core/attention/parallel_for.h"
#include "core/model/activations.h"
#include "core/model/blas_setup.h"
#include "core/model/qgemv.h"
#include "core/model/tensor_names.h"
#include "core/model/thread_pool.h"

namespace core::model {

std::shared_ptr<const Model> Model::load(const std::string& path, int n_threads) {
  const auto t0 = std::chrono::steady_clock::now();
  tune_openblas();
  auto m = std::shared_ptr<Model>(new Model());
  m->file_ = std::make_unique<GgufFile>(path);
  m->config_ = read_config(*m->file_);
  m->weights_ = load_weights(*m->file_, m->config_, n_threads);
  m->load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

const AttentionCapture* Capture::find(int layer, int head) const {
  for (const AttentionCapture& a : attention)
    if (a.layer == layer && a.head == head) return &a;
  return nullptr;
}

std::vector<LayerPlan> plan_layers(const Config& c, const ModelVariant& v) {
  std::vector<LayerPlan> plan(c.n_layers);
  for (int l = 0; l < c.n_layers; ++l) {
    LayerPlan& p = plan[l];
    const bool chosen = v.window > 0 && (v.window_layers.empty() ||
                                         std::find(v.window_layers.begin(), v.window_layers.end(),
                                                   l) != v.window_layers.end());
    const int window = chosen ? v.window : c.layers[l].window;
    p.mask.kind = window > 0 ? attn::MaskKind::SlidingWindow : attn::MaskKind::Causal;
    p.mask.window = window;
    p.mask.convention = chosen ? v.window_convention : c.layers[l].convention;
    // Attending before writing means a ring of W slots serves both conventions: W keys
    // including self needs W-1 old keys, self plus W previous needs W.
    // No position reaches past the context (run() refuses one), so a window wider than the
    // context never needs more than context_length slots.
    p.cache_slots =
        v.cache == CacheMode::Rolling && window > 0 ? std::min(window, c.context_length) : 0;
  }
  return plan;
}

// Per-layer K/V store. Growing caches keep position p in slot p; rolling ones use ring_slot.
struct LayerCache {
  int capacity = 0;
  int ring = 0;                   // rolling: W, else 0
  std::vector<float> k, v;        // [capacity, kv_dim]
  std::vector<int32_t> slot_pos;  // [capacity]
  int used = 0;                   // slots that may hold a position
};

// One layer's weights as quantized blocks in the mapped file, for single-token steps.
// A null matrix (data == nullptr) means: use the f32 copy (unsupported type, pooled K/V).
struct LayerQuant {
  QuantMatrix wq, wk, wv, wo, gate, up, down;
};

// One product of a single-token step: W (quantized, or f32 when w.data is null) times x.
struct GemvJob {
  const QuantMatrix& w;
  const float* w_f32;  // [out, in]
  float* y;            // [out]
  int out;
};

struct Session::State {
  // y_j = W_j · x for every job (all share x [in]), rows split over the pool.
  void gemv(const float* x, int in, std::initializer_list<GemvJob> jobs);

  std::vector<LayerCache> cache;  // [n_layers]
  std::vector<LayerQuant> quant;  // [n_layers]
  QuantMatrix lm_head;
  std::unique_ptr<ThreadPool> pool;
  std::vector<float> xsum;  // [in / 32] block sums of the vector of the current product
  // Scratch, sized for the current chunk of T tokens.
  std::vector<float> x, xb, q, k, v, att, o, gate, up;  // [T, ...]
  std::vector<float> rope_cos, rope_sin;                // [T, hd/2]
  std::vector<int32_t> pos;                             // [T]
  std::vector<int> capture_index;  // [n_layers * n_heads] into capture_.attention, -1 = none
};

namespace {

void rmsnorm_rows(float* out, const float* x, const float* w, int rows, int n, float eps) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<size_t>(r) * n;
    float* orow = out + static_cast<size_t>(r) * n;
    double ss = 0;
    for (int i = 0; i < n; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    const float s = 1.0f / std::sqrt(static_cast<float>(ss / n) + eps);
    for (int i = 0; i < n; ++i) orow[i] = xr[i] * s * w[i];
  }
}

// y[T, out] = x[T, in] · W[out, in]ᵀ
void matmul(float* y, const float* x, const float* w, int t, int out, int in) {
  if (t == 1)
    cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, w, in, x, 1, 0.0f, y, 1);
  else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, out, in, 1.0f, x, in, w, in, 0.0f, y,
                out);
}

// Rotates every head of x[T, n_heads, hd] by its position.
void rope(float* x, int t_count, int n_heads, int hd, RopeStyle style, const float* cos_t,
          const float* sin_t) {
  const int half = hd / 2;
  for (int t = 0; t < t_count; ++t)
    for (int h = 0; h < n_heads; ++h) {
      float* v = x + (static_cast<size_t>(t) * n_heads + h) * hd;
      const float* c = cos_t + static_cast<size_t>(t) * half;
      const float* s = sin_t + static_cast<size_t>(t) * half;
      for (int i = 0; i < half; ++i) {
        const int a = style == RopeStyle::AdjacentPairs ? 2 * i : i;
        const int b = style == RopeStyle::AdjacentPairs ? 2 * i + 1 : i + half;
        const float x0 = v[a], x1 = v[b];
        v[a] = x0 * c[i] - x1 * s[i];
        v[b] = x0 * s[i] + x1 * c[i];
      }
    }
}

float gelu_tanh(float x) {
  return 0.5f * x * (1.0f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

}  // namespace

Session::Session(std::shared_ptr<const Model> model, RunOptions opts)
    : model_(std::move(model)), opts_(std::move(opts)), st_(std::make_unique<State>()) {
  const Config& c = model_->config();
  const ModelVariant& v = opts_.variant;
  plan_ = plan_layers(c, v);
  if (v.cache == CacheMode::Rolling &&
      std::none_of(plan_.begin(), plan_.end(),
                   [](const LayerPlan& p) { return p.cache_slots > 0; }))
    throw std::invalid_argument("rolling cache needs a sliding window (set a window override)");
  if (v.chunk < 0) throw std::invalid_argument("chunk must be >= 0");
  kv_heads_ = v.kv_heads > 0 ? v.kv_heads : c.n_kv_heads;
  if (kv_heads_ > c.n_kv_heads || c.n_kv_heads % kv_heads_ != 0 || c.n_heads % kv_heads_ != 0)
    throw std::invalid_argument("kv_heads " + std::to_string(kv_heads_) + " must divide the " +
                                std::to_string(c.n_kv_heads) + " native KV heads");
  if (kv_heads_ != c.n_kv_heads) {
    for (const LayerWeights& l : model_->weights().layers) {
      pooled_wk_.push_back(pool_kv_heads(l.wk, c.n_kv_heads, kv_heads_, c.head_dim, c.d_model));
      pooled_wv_.push_back(pool_kv_heads(l.wv, c.n_kv_heads, kv_heads_, c.head_dim, c.d_model));
    }
  }
  if (opts_.n_threads <= 0) opts_.n_threads = default_threads();
  openblas_set_num_threads(opts_.n_threads);
  backend_ = opts_.backend ? opts_.backend : make_default_backend(opts_.n_threads);
  // Single-token steps read the weights as the file stores them (4.5-8.5 bits a weight)
  // instead of the f32 copy; pooled K/V heads exist only as f32.
  const GgufFile& f = model_->gguf();
  auto qm = [&](const std::string& name) { return quant_matrix(f.tensor(name)); };
  st_->quant.resize(c.n_layers);
  const TensorNames& n = tensor_names(c.arch);
  for (int l = 0; l < c.n_layers; ++l) {
    LayerQuant& q = st_->quant[l];
    q.wq = qm(layer_tensor(l, n.attn_q));
    if (pooled_wk_.empty()) {
      q.wk = qm(layer_tensor(l, n.attn_k));
      q.wv = qm(layer_tensor(l, n.attn_v));
    }
    q.wo = qm(layer_tensor(l, n.attn_output));
    q.gate = qm(layer_tensor(l, n.ffn_gate));
    q.up = qm(layer_tensor(l, n.ffn_up));
    q.down = qm(layer_tensor(l, n.ffn_down));
  }
  st_->lm_head = qm(c.tied_embeddings ? n.token_embd : n.output);
  st_->pool = std::make_unique<ThreadPool>(opts_.n_threads);
  reset();
}

Session::~Session() = default;

void Session::reset() {
  const Config& c = model_->config();
  tokens_.clear();
  st_->cache.assign(c.n_layers, LayerCache{});
  for (int l = 0; l < c.n_layers; ++l) st_->cache[l].ring = plan_[l].cache_slots;
  capture_ = Capture{};
  st_->capture_index.assign(static_cast<size_t>(c.n_layers) * c.n_heads, -1);
  const CaptureSpec& cs = opts_.capture;
  if (!cs.attention) return;
  auto in = [](const std::vector<int>& v, int x) {
    return v.empty() || std::find(v.begin(), v.end(), x) != v.end();
  };
  for (int l = 0; l < c.n_layers; ++l)
    for (int h = 0; h < c.n_heads; ++h)
      if (in(cs.layers, l) && in(cs.heads, h)) {
        st_->capture_index[l * c.n_heads + h] = static_cast<int>(capture_.attention.size());
        capture_.attention.push_back(AttentionCapture{l, h, 0, {}});
      }
}

void Session::check_cancel() {
  if (opts_.cancel && opts_.cancel->load(std::memory_order_relaxed)) {
    reset();
    throw Cancelled();
  }
}

void Session::State::gemv(const float* x, int in, std::initializer_list<GemvJob> jobs) {
  constexpr int kRowsPerTask = 32;
  xsum.resize(in / 32 + 1);
  bool prepared = false;
  struct Range {
    const GemvJob* job;
    int r0, r1;
  };
  std::vector<Range> tasks;
  for (const GemvJob& j : jobs) {
    if (!j.w.data) {  // f32 fallback: OpenBLAS threads it itself
      cblas_sgemv(CblasRowMajor, CblasNoTrans, j.out, in, 1.0f, j.w_f32, in, x, 1, 0.0f, j.y, 1);
      continue;
    }
    if (!prepared && j.w.type == TensorType::Q4_1) {
      qgemv_prepare(j.w, x, xsum.data());
      prepared = true;
    }
    for (int r = 0; r < j.out; r += kRowsPerTask)
      tasks.push_back({&j, r, std::min(j.out, r + kRowsPerTask)});
  }
  pool->run(static_cast<int>(tasks.size()), [&](int i) {
    const Range& t = tasks[i];
    qgemv_rows(t.job->w, x, xsum.data(), t.job->y, t.r0, t.r1);
  });
}

namespace {

void ensure_capacity(LayerCache& lc, int slots, int kv_dim) {
  if (slots <= lc.capacity) return;
  const int cap = lc.ring > 0 ? lc.ring : std::max({slots, 2 * lc.capacity, 64});
  lc.k.resize(static_cast<size_t>(cap) * kv_dim);
  lc.v.resize(static_cast<size_t>(cap) * kv_dim);
  lc.slot_pos.resize(cap, -1);
  lc.capacity = cap;
}

}  // namespace

std::vector<float> Session::run(const std::vector<int32_t>& tok, int pos0, bool all_logits) {
  const Config& c = model_->config();
  const Weights& w = model_->weights();
  State& s = *st_;
  const int T = static_cast<int>(tok.size());
  const int d = c.d_model, hd = c.head_dim, ff = c.d_ff, nh = c.n_heads, nkv = kv_heads_;
  const int qd = nh * hd, kvd = nkv * hd, half = hd / 2;
  const size_t td = static_cast<size_t>(T);
  s.x.resize(td * d);
  s.xb.resize(td * d);
  s.o.resize(td * d);
  s.q.resize(td * qd);
  s.att.resize(td * qd);
  s.k.resize(td * kvd);
  s.v.resize(td * kvd);
  s.gate.resize(td * ff);
  s.up.resize(td * ff);
  s.rope_cos.resize(td * half);
  s.rope_sin.resize(td * half);
  s.pos.resize(T);
  if (T > 0 && (pos0 < 0 || int64_t{pos0} + T > c.context_length))
    throw std::out_of_range("positions " + std::to_string(pos0) + ".." +
                            std::to_string(int64_t{pos0} + T - 1) + " are past the context of " +
                            std::to_string(c.context_length) + " tokens");
  for (int t = 0; t < T; ++t) {
    if (tok[t] < 0 || tok[t] >= c.vocab)
      throw std::out_of_range("token id " + std::to_string(tok[t]) + " outside the vocabulary");
    s.pos[t] = pos0 + t;
    const float* e = w.token_embd.data() + static_cast<size_t>(tok[t]) * d;
    for (int i = 0; i < d; ++i) s.x[t * d + i] = e[i] * c.embed_scale;
  }

  // Capture rows: which positions of this chunk are kept, and room for them.
  const CaptureSpec& cs = opts_.capture;
  const bool limited = cs.layers.empty() && cs.heads.empty();
  const int last_pos = pos0 + T - 1;
  const int cap_end = limited ? std::min(last_pos + 1, cs.max_positions) : last_pos + 1;
  for (AttentionCapture& a : capture_.attention)
    if (cap_end > a.n) {
      a.p.resize(static_cast<size_t>(cap_end) * (cap_end + 1) / 2, 0.0f);
      a.n = cap_end;
    }
  std::vector<float*> rows(td * nh, nullptr);

  float rope_base = -1.0f;
  for (int l = 0; l < c.n_layers; ++l) {
    check_cancel();
    const LayerWeights& lw = w.layers[l];
    const float* wk = pooled_wk_.empty() ? lw.wk.data() : pooled_wk_[l].data();
    const float* wv = pooled_wv_.empty() ? lw.wv.data() : pooled_wv_[l].data();
    rmsnorm_rows(s.xb.data(), s.x.data(), lw.attn_norm.data(), T, d, c.rms_eps);
    const LayerQuant& lq = s.quant[l];
    if (T == 1) {
      s.gemv(s.xb.data(), d,
             {{lq.wq, lw.wq.data(), s.q.data(), qd},
              {lq.wk, wk, s.k.data(), kvd},
              {lq.wv, wv, s.v.data(), kvd}});
    } else {
      matmul(s.q.data(), s.xb.data(), lw.wq.data(), T, qd, d);
      matmul(s.k.data(), s.xb.data(), wk, T, kvd, d);
      matmul(s.v.data(), s.xb.data(), wv, T, kvd, d);
    }
    if (c.qk_norm) {
      rmsnorm_rows(s.q.data(), s.q.data(), lw.q_norm.data(), T * nh, hd, c.rms_eps);
      rmsnorm_rows(s.k.data(), s.k.data(), lw.k_norm.data(), T * nkv, hd, c.rms_eps);
    }
    if (c.layers[l].rope_base != rope_base) {
      // Hugging Face builds inv_freq and position*inv_freq in f32; doing the same keeps the
      // rounding of long-range angles alike.
      rope_base = c.layers[l].rope_base;
      for (int i = 0; i < half; ++i) {
        const float inv = static_cast<float>(1.0 / std::pow(double(rope_base), 2.0 * i / hd));
        for (int t = 0; t < T; ++t) {
          const float ang = static_cast<float>(s.pos[t]) * inv;
          s.rope_cos[t * half + i] = std::cos(ang);
          s.rope_sin[t * half + i] = std::sin(ang);
        }
      }
    }
    rope(s.q.data(), T, nh, hd, c.rope_style, s.rope_cos.data(), s.rope_sin.data());
    rope(s.k.data(), T, nkv, hd, c.rope_style, s.rope_cos.data(), s.rope_sin.data());

    bool any_rows = false;
    for (int t = 0; t < T; ++t)
      for (int h = 0; h < nh; ++h) {
        const int idx = s.capture_index[l * nh + h];
        float*& r = rows[t * nh + h];
        r = nullptr;
        if (idx >= 0 && s.pos[t] < cap_end) {
          const size_t q = static_cast<size_t>(s.pos[t]);
          r = capture_.attention[idx].p.data() + q * (q + 1) / 2;
          any_rows = true;
        }
      }

    LayerCache& lc = s.cache[l];
    AttentionCall call;
    call.n_q = T;
    call.n_heads = nh;
    call.n_kv_heads = nkv;
    call.head_dim = hd;
    call.scale = c.attn_scale;
    call.mask = plan_[l].mask;
    call.q_pos = s.pos.data();
    call.q = s.q.data();
    call.k_new = s.k.data();
    call.v_new = s.v.data();
    call.n_slots = lc.used;
    call.slot_pos = lc.slot_pos.data();
    call.k_cache = lc.k.data();
    call.v_cache = lc.v.data();
    call.out = s.att.data();
    call.prob_rows = any_rows ? rows.data() : nullptr;
    backend_->attention(call);

    // Written only after attending, so a ring never evicts a key this chunk still needs.
    ensure_capacity(lc, lc.ring > 0 ? lc.ring : last_pos + 1, kvd);
    for (int t = 0; t < T; ++t) {
      const int slot = lc.ring > 0 ? attn::ring_slot(s.pos[t], lc.ring) : s.pos[t];
      attn::write_cache_slot(lc.k.data(), lc.v.data(), lc.slot_pos.data(), slot, s.pos[t],
                             s.k.data() + t * kvd, s.v.data() + t * kvd, kvd);
    }
    lc.used = lc.ring > 0 ? lc.ring : std::max(lc.used, last_pos + 1);

    if (T == 1)
      s.gemv(s.att.data(), qd, {{lq.wo, lw.wo.data(), s.o.data(), d}});
    else
      matmul(s.o.data(), s.att.data(), lw.wo.data(), T, d, qd);
    if (c.post_norms)
      rmsnorm_rows(s.o.data(), s.o.data(), lw.post_attn_norm.data(), T, d, c.rms_eps);
    for (size_t i = 0; i < td * d; ++i) s.x[i] += s.o[i];

    rmsnorm_rows(s.xb.data(), s.x.data(), lw.ffn_norm.data(), T, d, c.rms_eps);
    if (T == 1) {
      s.gemv(s.xb.data(), d,
             {{lq.gate, lw.w_gate.data(), s.gate.data(), ff},
              {lq.up, lw.w_up.data(), s.up.data(), ff}});
    } else {
      matmul(s.gate.data(), s.xb.data(), lw.w_gate.data(), T, ff, d);
      matmul(s.up.data(), s.xb.data(), lw.w_up.data(), T, ff, d);
    }
    if (c.gelu_tanh)
      for (size_t i = 0; i < td * ff; ++i) s.gate[i] = gelu_tanh(s.gate[i]) * s.up[i];
    else
      silu_mul(s.gate.data(), s.up.data(), td * ff);
    if (T == 1)
      s.gemv(s.gate.data(), ff, {{lq.down, lw.w_down.data(), s.o.data(), d}});
    else
      matmul(s.o.data(), s.gate.data(), lw.w_down.data(), T, d, ff);
    if (c.post_norms)
      rmsnorm_rows(s.o.data(), s.o.data(), lw.post_ffn_norm.data(), T, d, c.rms_eps);
    for (size_t i = 0; i < td * d; ++i) s.x[i] += s.o[i];
    if (opts_.progress) opts_.progress(++progress_done_, progress_total_);
  }

  const int n_out = all_logits ? T : 1;
  const float* xr = s.x.data() + static_cast<size_t>(T - n_out) * d;
  rmsnorm_rows(s.xb.data(), xr, w.output_norm.data(), n_out, d, c.rms_eps);
  std::vector<float> logits(static_cast<size_t>(n_out) * c.vocab);
  if (n_out == 1)
    s.gemv(s.xb.data(), d, {{s.lm_head, w.lm_head(), logits.data(), c.vocab}});
  else
    matmul(logits.data(), s.xb.data(), w.lm_head(), n_out, c.vocab, d);
  if (c.final_softcap > 0)
    for (float& z : logits) z = c.final_softcap * std::tanh(z / c.final_softcap);
  return logits;
}

std::vector<float> Session::prefill(const std::vector<int32_t>& tokens, bool all_logits) {
  if (tokens.empty()) throw std::invalid_argument("prefill: no tokens");
  const int vocab = model_->config().vocab;
  const bool none = opts_.variant.cache == CacheMode::None;
  // Without a cache every call recomputes the whole sequence from position 0.
  std::vector<int32_t> seq = tokens;
  int keep_from = 0;
  if (none) {
    seq = tokens_;
    seq.insert(seq.end(), tokens.begin(), tokens.end());
    keep_from = static_cast<int>(tokens_.size());
    for (LayerCache& lc : st_->cache) lc = LayerCache{0, lc.ring, {}, {}, {}, 0};
  }
  const int pos0 = none ? 0 : static_cast<int>(tokens_.size());
  const int n = static_cast<int>(seq.size());
  const int chunk = opts_.variant.chunk > 0 ? opts_.variant.chunk : n;
  progress_done_ = 0;
  progress_total_ = (n + chunk - 1) / chunk * model_->config().n_layers;
  std::vector<float> out;
  for (int c0 = 0; c0 < n; c0 += chunk) {
    const int c1 = std::min(n, c0 + chunk);
    const bool last = c1 == n;
    // Logits are needed for kept positions of every chunk (all_logits) or the final token.
    const bool want_all = all_logits && c1 > keep_from;
    if (!want_all && !last && !all_logits) {
      run(std::vector<int32_t>(seq.begin() + c0, seq.begin() + c1), pos0 + c0, false);
      continue;
    }
    std::vector<float> lg =
        run(std::vector<int32_t>(seq.begin() + c0, seq.begin() + c1), pos0 + c0, want_all);
    if (want_all) {
      const int skip = std::max(0, keep_from - c0);
      out.insert(out.end(), lg.begin() + static_cast<size_t>(skip) * vocab, lg.end());
    } else if (last) {
      out = std::move(lg);
    }
  }
  if (none) {
    tokens_ = std::move(seq);
  } else {
    tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
  }
  capture_.n_tokens = static_cast<int>(tokens_.size());
  update_cache_capture();
  if (none)  // nothing survives the pass; the capture above shows what it held at the end
    for (LayerCache& lc : st_->cache) lc = LayerCache{0, lc.ring, {}, {}, {}, 0};
  capture_.cache_bytes = 0;
  if (!none)
    for (const CacheCapture& cc : capture_.cache) capture_.cache_bytes += cc.bytes;
  return out;
}

std::vector<float> Session::decode(int32_t token) {
  return prefill({token}, false);
}

void Session::update_cache_capture() {
  const Config& c = model_->config();
  const int hd = c.head_dim, nkv = kv_heads_;
  capture_.cache.resize(c.n_layers);
  for (int l = 0; l < c.n_layers; ++l) {
    const LayerCache& lc = st_->cache[l];
    CacheCapture& cc = capture_.cache[l];
    cc.layer = l;
    cc.n_slots = lc.capacity;
    cc.n_kv_heads = nkv;
    cc.bytes = (lc.k.capacity() + lc.v.capacity()) * sizeof(float);
    cc.slot_pos = lc.slot_pos;
    cc.k_norm.assign(static_cast<size_t>(lc.capacity) * nkv, 0.0f);
    cc.v_norm.assign(static_cast<size_t>(lc.capacity) * nkv, 0.0f);
    if (!opts_.capture.cache) continue;
    for (int s = 0; s < lc.capacity; ++s) {
      if (lc.slot_pos[s] < 0) continue;
      for (int h = 0; h < nkv; ++h) {
        const float* k = lc.k.data() + (static_cast<size_t>(s) * nkv + h) * hd;
        const float* v = lc.v.data() + (static_cast<size_t>(s) * nkv + h) * hd;
        cc.k_norm[s * nkv + h] = std::sqrt(attn::dot(k, k, hd));
        cc.v_norm[s * nkv + h] = std::sqrt(attn::dot(v, v, hd));
      }
    }
  }
}

}  // namespace core::model
