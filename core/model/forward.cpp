#include "core/model/forward.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <initializer_list>
#include <stdexcept>

#include "core/attention/attn_math.h"
#include "core/attention/cpu_attention.h"
#include "core/attention/parallel_for.h"
#include "core/model/activations.h"
#include "core/model/dequant.h"
#include "core/model/layer_cache.h"
#include "core/model/qgemm.h"
#include "core/model/qgemm_int8.h"
#include "core/model/qgemv.h"
#include "core/model/tensor_names.h"
#include "core/model/thread_pool.h"

namespace core::model {

std::shared_ptr<const Model> Model::load(const std::string& path, int n_threads,
                                         bool f32_matrices) {
  const auto t0 = std::chrono::steady_clock::now();
  auto m = std::shared_ptr<Model>(new Model());
  m->file_ = std::make_unique<GgufFile>(path);
  m->config_ = read_config(*m->file_);
  m->file_->read_data_into_memory();  // after the metadata checks, before any weight is read
  m->weights_ = load_weights(*m->file_, m->config_, n_threads, f32_matrices);
  m->load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

const AttentionCapture* Capture::find(int layer, int head) const {
  for (const AttentionCapture& a : attention)
    if (a.layer == layer && a.head == head) return &a;
  return nullptr;
}

namespace {

// The closed ends of every packed segment but the last (the last stays open).
std::shared_ptr<const std::vector<int32_t>> closed_segment_ends(const std::vector<int>& lengths) {
  auto ends = std::make_shared<std::vector<int32_t>>();
  int32_t end = 0;
  for (size_t i = 0; i + 1 < lengths.size(); ++i) ends->push_back(end += lengths[i]);
  return ends;
}

}  // namespace

std::vector<LayerPlan> plan_layers(const Config& c, const ModelVariant& v) {
  std::vector<LayerPlan> plan(c.n_layers);
  const auto segment_ends = v.segments.empty() ? nullptr : closed_segment_ends(v.segments);
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
    p.cache_block = v.cache == CacheMode::Paged ? v.block : 0;
    if (v.sparse_local > 0) {  // the sparse pattern replaces the layer's own mask
      p.mask.kind = attn::MaskKind::Sparse;
      p.mask.window = 0;
      p.mask.sparse_global = v.sparse_global;
      p.mask.sparse_local = v.sparse_local;
      p.mask.sparse_random = v.sparse_random;
      p.mask.sparse_seed = v.sparse_seed;
    }
    if (segment_ends) {  // packed prompts: the layer's window applies inside each segment
      p.mask.kind = attn::MaskKind::BlockDiagonal;
      p.segment_ends = segment_ends;
      p.mask.segment_ends = segment_ends->data();
      p.mask.n_segments = static_cast<int32_t>(segment_ends->size());
    }
  }
  return plan;
}

int rows_in_common(const std::vector<LayerPlan>& a, const std::vector<LayerPlan>& b) {
  if (a.size() != b.size()) return 0;
  auto banded = [](const attn::MaskSpec& m) {  // one distance bound says everything
    return m.kind == attn::MaskKind::Causal || m.kind == attn::MaskKind::SlidingWindow;
  };
  int rows = INT32_MAX;
  for (size_t l = 0; l < a.size(); ++l) {
    const attn::MaskSpec &x = a[l].mask, &y = b[l].mask;
    const int cx = attn::causal_rows(x), cy = attn::causal_rows(y);
    if (banded(x) && banded(y)) {  // the same bound in either convention is the same mask
      if (cx != cy) rows = std::min({rows, cx, cy});
      continue;
    }
    const bool same = x.kind == y.kind && x.window == y.window && x.convention == y.convention &&
                      x.chunk == y.chunk && x.sparse_global == y.sparse_global &&
                      x.sparse_local == y.sparse_local && x.sparse_random == y.sparse_random &&
                      x.sparse_seed == y.sparse_seed && x.n_segments == 0 && y.n_segments == 0;
    if (!same) rows = std::min({rows, cx, cy});
  }
  return rows;
}

// One layer's matrices as quantized blocks in the mapped file (pooled K/V heads: f32).
struct LayerQuant {
  QuantMatrix wq, wk, wv, wo, gate, up, down;
};

// One product: y [T, w.rows] = x [T, w.cols] · Wᵀ.
struct MatJob {
  const QuantMatrix& w;
  float* y;
};

struct Session::State {
  // y_j = x · W_jᵀ for every job (all share x [T, in]): one pool barrier for all of them.
  // T = 1 runs the fused dequantize-dot rows, larger T the packed-panel GEMM.
  void matmul(const float* x, int t_count, std::initializer_list<MatJob> jobs);
  // The x of a multi-token product packed for the precision (pack_x, _bf16 or _int8).
  void pack(const float* x, int t_count, int cols, Precision prec);
  // fn(r) for the rows [0, rows) of element-wise work, split over the pool.
  template <typename Fn>
  void rows(int n_rows, size_t row_cost, Fn&& fn);

  std::vector<LayerCache> cache;  // [n_layers]
  std::vector<LayerQuant> quant;  // [n_layers]
  QuantMatrix lm_head, token_embd;
  std::unique_ptr<ThreadPool> pool;
  std::vector<float> xsum;  // [in / 32] block sums of x for a single-token product
  std::vector<float>
      xpacked;  // [x_tiles(T) * kPackRows * in] x of a multi-token product (pack_x_tile)
  std::vector<uint16_t> xbf16;   // the same as bf16 pairs (pack_x_bf16), draft on AVX-512 BF16
  Int8X xint8;                   // the same as int8 blocks (pack_x_int8), int8 draft
  Int8WeightCache int8_weights;  // W's int8 panels, packed on the first product with W
  Precision precision = Precision::Exact;
  DraftPath draft_path = DraftPath::Emulated;  // picked when the session starts
  // The n tokens of the current call (run() goes layer by layer over its chunks of T).
  std::vector<float> x;                   // [n, d] hidden state of every position
  std::vector<float> rope_cos, rope_sin;  // [n, hd/2] for rope_base
  float rope_base = -1.0f;
  std::vector<int32_t> pos;       // [n] sequence positions
  std::vector<int32_t> rope_pos;  // [n] RoPE positions: pos, or pos within its packed segment
  int cap_end = 0;                // captured rows are positions < cap_end
  // Scratch, sized for one chunk of T tokens.
  std::vector<float> xb, q, k, v, att, o, gate, up;  // [T, ...]
  std::vector<int> capture_index;  // [n_layers * n_heads] into capture_.attention, -1 = none
  std::vector<float> row_scratch;  // [T, n_heads, last position + 1] rows for on_rows
};

namespace {

// Copies head `head`'s q rows and its K/V head's k, v rows of a chunk of T tokens at
// positions pos[] into hv ([n, hd] each, grown to the last position).
void capture_vectors(HeadVectors& hv, int layer, int head, const float* q, const float* k,
                     const float* v, const int32_t* pos, int T, int nh, int nkv, int hd) {
  hv.layer = layer;
  hv.head = head;
  hv.kv_head = attn::kv_head_of(head, nh, nkv);
  hv.head_dim = hd;
  const int n = std::max(hv.n, pos[T - 1] + 1);
  for (std::vector<float>* b : {&hv.q, &hv.k, &hv.v}) b->resize(static_cast<size_t>(n) * hd);
  hv.n = n;
  for (int t = 0; t < T; ++t) {
    const size_t dst = static_cast<size_t>(pos[t]) * hd;
    const float* qt = q + (static_cast<size_t>(t) * nh + head) * hd;
    const size_t kvo = (static_cast<size_t>(t) * nkv + hv.kv_head) * hd;
    std::copy(qt, qt + hd, hv.q.begin() + dst);
    std::copy(k + kvo, k + kvo + hd, hv.k.begin() + dst);
    std::copy(v + kvo, v + kvo + hd, hv.v.begin() + dst);
  }
}

// Cloned per instruction set: the products are exact in double and the sums keep their order,
// so every clone gives the same bits.
__attribute__((target_clones("avx512f", "avx2", "default"))) void rmsnorm_rows(
    float* out, const float* x, const float* w, int rows, int n, float eps) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<size_t>(r) * n;
    float* orow = out + static_cast<size_t>(r) * n;
    // Eight double partial sums, so the compiler can vectorize (one chain costs 4 cycles an
    // element); the sum of squares stays in double, the scale is rounded to f32 once.
    double part[8] = {};
    int i = 0;
    for (; i + 8 <= n; i += 8)
      for (int j = 0; j < 8; ++j) part[j] += static_cast<double>(xr[i + j]) * xr[i + j];
    for (; i < n; ++i) part[0] += static_cast<double>(xr[i]) * xr[i];
    const double ss =
        ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
    const float s = 1.0f / std::sqrt(static_cast<float>(ss / n) + eps);
    for (int i = 0; i < n; ++i) orow[i] = xr[i] * s * w[i];
  }
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
  if (v.sparse_local > 0 && v.cache == CacheMode::Rolling)
    throw std::invalid_argument("a rolling cache would evict the sparse pattern's global keys");
  if (v.sparse_local > 0 && !v.segments.empty())
    throw std::invalid_argument("packed segments and the sparse pattern each replace the mask");
  for (int len : v.segments)
    if (len < 1) throw std::invalid_argument("every packed segment needs at least one token");
  if (v.cache == CacheMode::Paged && v.block < 1)
    throw std::invalid_argument("paged cache needs a block size >= 1");
  kv_heads_ = v.kv_heads > 0 ? v.kv_heads : c.n_kv_heads;
  if (kv_heads_ > c.n_kv_heads || c.n_kv_heads % kv_heads_ != 0 || c.n_heads % kv_heads_ != 0)
    throw std::invalid_argument("kv_heads " + std::to_string(kv_heads_) + " must divide the " +
                                std::to_string(c.n_kv_heads) + " native KV heads");
  const GgufFile& f = model_->gguf();
  const TensorNames& n = tensor_names(c.arch);
  if (kv_heads_ != c.n_kv_heads) {
    auto pooled = [&](const std::string& name) {
      const TensorInfo& t = f.tensor(name);
      std::vector<float> w(t.n_elems);
      dequantize(t.type, t.data, w.data(), static_cast<int64_t>(t.n_elems));
      return pool_kv_heads(w, c.n_kv_heads, kv_heads_, c.head_dim, c.d_model);
    };
    for (int l = 0; l < c.n_layers; ++l) {
      pooled_wk_.push_back(pooled(layer_tensor(l, n.attn_k)));
      pooled_wv_.push_back(pooled(layer_tensor(l, n.attn_v)));
    }
  }
  if (opts_.n_threads <= 0) opts_.n_threads = default_threads();
  backend_ = opts_.backend ? opts_.backend : make_default_backend(opts_.n_threads);
  // Every product reads the weights as the file stores them (4.5-8.5 bits a weight); pooled
  // K/V heads exist only as f32.
  auto qm = [&](const std::string& name) { return quant_matrix(f.tensor(name)); };
  st_->quant.resize(c.n_layers);
  for (int l = 0; l < c.n_layers; ++l) {
    LayerQuant& q = st_->quant[l];
    q.wq = qm(layer_tensor(l, n.attn_q));
    const int kvd = kv_heads_ * c.head_dim;
    q.wk = pooled_wk_.empty() ? qm(layer_tensor(l, n.attn_k))
                              : f32_matrix(pooled_wk_[l].data(), kvd, c.d_model);
    q.wv = pooled_wv_.empty() ? qm(layer_tensor(l, n.attn_v))
                              : f32_matrix(pooled_wv_[l].data(), kvd, c.d_model);
    q.wo = qm(layer_tensor(l, n.attn_output));
    q.gate = qm(layer_tensor(l, n.ffn_gate));
    q.up = qm(layer_tensor(l, n.ffn_up));
    q.down = qm(layer_tensor(l, n.ffn_down));
  }
  st_->token_embd = qm(n.token_embd);
  st_->lm_head = c.tied_embeddings ? st_->token_embd : qm(n.output);
  st_->pool = std::make_unique<ThreadPool>(opts_.n_threads);
  st_->precision = opts_.precision;
  st_->draft_path = current_draft_path();
  reset();
}

Session::~Session() = default;

void Session::reserve(int n_positions) {
  const Config& c = model_->config();
  const int n = std::min(n_positions, c.context_length), kvd = kv_heads_ * c.head_dim;
  for (LayerCache& lc : st_->cache)
    if (lc.paged.block == 0) ensure_capacity(lc, lc.ring > 0 ? std::min(lc.ring, n) : n, kvd);
}

void Session::reset() {
  const Config& c = model_->config();
  tokens_.clear();
  st_->cache.clear();
  for (int l = 0; l < c.n_layers; ++l) st_->cache.push_back(empty_cache(plan_[l]));
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

void Session::truncate(int n_keep, const ModelVariant& v) {
  const Config& c = model_->config();
  const int kv = v.kv_heads > 0 ? v.kv_heads : c.n_kv_heads;
  if (opts_.variant.cache != CacheMode::Full || v.cache != CacheMode::Full || kv != kv_heads_)
    throw std::invalid_argument("truncate needs a growing cache and the same K/V heads");
  n_keep = std::clamp(n_keep, 0, static_cast<int>(tokens_.size()));
  for (LayerCache& lc : st_->cache) {  // a growing cache keeps position p in slot p
    for (int s = n_keep; s < lc.capacity; ++s) lc.slot_pos[s] = -1;
    lc.used = std::min(lc.used, n_keep);
  }
  for (AttentionCapture& a : capture_.attention)
    if (a.n > n_keep) {
      a.n = n_keep;
      a.p.resize(static_cast<size_t>(n_keep) * (n_keep + 1) / 2);
    }
  HeadVectors& hv = capture_.vectors;
  if (hv.n > n_keep) {
    hv.n = n_keep;
    for (std::vector<float>* x : {&hv.q, &hv.k, &hv.v})
      x->resize(static_cast<size_t>(n_keep) * hv.head_dim);
  }
  capture_.rope_positions.resize(std::min(capture_.rope_positions.size(), size_t(n_keep)));
  tokens_.resize(n_keep);
  capture_.n_tokens = n_keep;
  opts_.variant = v;
  plan_ = plan_layers(c, v);
}

Capture Session::take_capture() {
  std::vector<AttentionCapture> maps = std::move(capture_.attention);
  capture_.attention.clear();
  for (const AttentionCapture& a : maps) capture_.attention.push_back({a.layer, a.head, 0, {}});
  Capture out = capture_;  // everything but the maps, which move
  out.attention = std::move(maps);
  return out;
}

void Session::restore_rows(const Capture& from, int n_keep) {
  for (AttentionCapture& a : capture_.attention) {
    const AttentionCapture* f = from.find(a.layer, a.head);
    const int n = f ? std::min(n_keep, f->n) : 0;
    const size_t tri = static_cast<size_t>(n) * (n + 1) / 2;
    if (a.p.size() < tri) a.p.resize(tri);  // recycled storage may hold more: run() sizes it
    if (f) std::copy(f->p.begin(), f->p.begin() + tri, a.p.begin());
    a.n = n;
  }
}

void Session::recycle_maps(std::vector<std::vector<float>>& spare) {
  for (AttentionCapture& a : capture_.attention)
    if (a.p.capacity() == 0 && !spare.empty()) {
      a.p = std::move(spare.back());  // its old bytes stay: see run()
      spare.pop_back();
    }
}

void Session::set_control(const std::atomic<bool>* cancel, std::function<void(int, int)> progress,
                          std::function<void(int, const Capture&)> layer_done) {
  opts_.cancel = cancel;
  opts_.progress = std::move(progress);
  opts_.layer_done = std::move(layer_done);
}

void Session::check_cancel() {
  if (opts_.cancel && opts_.cancel->load(std::memory_order_relaxed)) {
    reset();
    throw Cancelled();
  }
}

void Session::State::matmul(const float* x, int t_count, std::initializer_list<MatJob> jobs) {
  // Tasks of whole 32-row panels. A single token: about 16 tasks a thread, so the threads
  // finish together while each streams long runs of rows (32-row tasks cost Gemma-3's
  // 262k-row logits 8192 hand-offs a token: 22.0 -> 20.1 ms a token at 2 threads). For T > 1
  // a group of packed panels that share each slice of x (panel_group).
  constexpr int kPanelRows = 32;
  int n_panels = 0;
  for (const MatJob& j : jobs) n_panels += (j.w.rows + kPanelRows - 1) / kPanelRows;
  const int rows_per_task = kPanelRows * (t_count == 1 ? std::max(1, n_panels / (16 * pool->size()))
                                                       : panel_group(n_panels, pool->size()));
  struct Range {
    const MatJob* job;
    int r0, r1;
    const Int8Weights* packed;  // the int8 draft's panels of job->w
  };
  std::vector<Range> tasks;
  bool prepared = false;
  const int cols = jobs.begin()->w.cols;
  const Precision prec =
      precision == Precision::DraftInt8 && !int8_supported(cols) ? Precision::Exact : precision;
  for (const MatJob& j : jobs) {
    const Int8Weights* packed =
        t_count > 1 && prec == Precision::DraftInt8 ? &int8_weights.get(j.w, *pool) : nullptr;
    if (t_count == 1 && !prepared && qgemv_needs_xsum(j.w.type)) {
      xsum.resize(j.w.cols / 32);
      qgemv_prepare(j.w, x, xsum.data());
      prepared = true;
    }
    for (int r = 0; r < j.w.rows; r += rows_per_task)
      tasks.push_back({&j, r, std::min(j.w.rows, r + rows_per_task), packed});
  }
  if (t_count > 1) pack(x, t_count, cols, prec);
  const bool draft = prec == Precision::DraftBf16;
  const bool bf16_dot = draft && draft_path == DraftPath::Avx512Bf16;
  pool->run(static_cast<int>(tasks.size()), [&](int i) {
    const Range& t = tasks[i];
    const int p0 = t.r0 / kPanelRows, p1 = (t.r1 + kPanelRows - 1) / kPanelRows;
    if (t_count == 1)
      qgemv_rows(t.job->w, x, xsum.data(), t.job->y, t.r0, t.r1);
    else if (prec == Precision::DraftInt8)
      qgemm_panels_int8(t.job->w, *t.packed, xint8, t_count, t.job->y, p0, p1);
    else if (bf16_dot)
      qgemm_panels_bf16(t.job->w, xbf16.data(), t_count, t.job->y, p0, p1);
    else
      qgemm_panels(t.job->w, xpacked.data(), t_count, t.job->y, p0, p1, draft);
  });
}

double Session::setup_ms() const {
  return st_->int8_weights.setup_ms();
}

void Session::State::pack(const float* x, int t_count, int cols, Precision prec) {
  if (prec == Precision::DraftInt8) {
    size_x_int8(t_count, cols, xint8);
    pool->run(int8_x_tiles(t_count), [&](int i) { pack_x_int8_tile(x, t_count, xint8, i); });
  } else if (prec == Precision::DraftBf16 && draft_path == DraftPath::Avx512Bf16)
    pack_x_bf16(x, t_count, cols, xbf16);
  else {
    // Packing x costs about 1/rows of the product; split, it is no longer the serial part.
    const bool bf16 = prec == Precision::DraftBf16;
    xpacked.resize(static_cast<size_t>(x_tiles(t_count)) * kPackRows * cols);
    pool->run(x_tiles(t_count),
              [&](int i) { pack_x_tile(x, t_count, cols, xpacked.data(), i, bf16); });
  }
}

template <typename Fn>
void Session::State::rows(int n_rows, size_t row_cost, Fn&& fn) {
  // Below ~20k element operations a wake-up costs more than the work.
  const int per_task = std::max(1, static_cast<int>(20000 / std::max<size_t>(row_cost, 1)));
  const int n_tasks = (n_rows + per_task - 1) / per_task;
  pool->run(n_tasks, [&](int i) {
    for (int r = i * per_task; r < std::min(n_rows, (i + 1) * per_task); ++r) fn(r);
  });
}

// The tokens' sequence and RoPE positions, their embeddings (x [n, d]), and up to which
// position the capture keeps rows.
void Session::embed(const std::vector<int32_t>& tok, int pos0) {
  const Config& c = model_->config();
  State& s = *st_;
  const int n = static_cast<int>(tok.size()), d = c.d_model;
  if (n > 0 && (pos0 < 0 || int64_t{pos0} + n > c.context_length))
    throw std::out_of_range("positions " + std::to_string(pos0) + ".." +
                            std::to_string(int64_t{pos0} + n - 1) + " are past the context of " +
                            std::to_string(c.context_length) + " tokens");
  s.pos.resize(n);
  s.rope_pos.resize(n);
  for (int t = 0; t < n; ++t) {
    if (tok[t] < 0 || tok[t] >= c.vocab)
      throw std::out_of_range("token id " + std::to_string(tok[t]) + " outside the vocabulary");
    s.pos[t] = pos0 + t;
    // Packed prompts restart their positions per segment; the mask and the cache keep the
    // sequence position.
    const attn::MaskSpec& m = plan_[0].mask;
    s.rope_pos[t] = m.kind == attn::MaskKind::BlockDiagonal
                        ? s.pos[t] - attn::segment_start(s.pos[t], m.segment_ends, m.n_segments)
                        : s.pos[t];
  }
  // pos0 is where this call starts, so a recomputing (cache none) call rewrites the list.
  capture_.rope_positions.resize(pos0);
  capture_.rope_positions.insert(capture_.rope_positions.end(), s.rope_pos.begin(),
                                 s.rope_pos.end());
  s.x.resize(static_cast<size_t>(n) * d);
  s.rows(n, d, [&](int t) {
    float* xt = s.x.data() + static_cast<size_t>(t) * d;
    dequantize_row(s.token_embd, tok[t], xt);
    for (int i = 0; i < d; ++i) xt[i] *= c.embed_scale;
  });
  const CaptureSpec& cs = opts_.capture;
  const bool limited = cs.layers.empty() && cs.heads.empty();
  s.cap_end = limited ? std::min(pos0 + n, cs.max_positions) : pos0 + n;
  s.rope_base = -1.0f;
}

// cos/sin [n, hd/2] of every position of this call for layer l's RoPE base.
void Session::rope_tables(int l) {
  const Config& c = model_->config();
  State& s = *st_;
  if (c.layers[l].rope_base == s.rope_base) return;
  // Hugging Face builds inv_freq and position*inv_freq in f32; doing the same keeps the
  // rounding of long-range angles alike.
  s.rope_base = c.layers[l].rope_base;
  const int hd = c.head_dim, half = hd / 2, n = static_cast<int>(s.pos.size());
  s.rope_cos.resize(static_cast<size_t>(n) * half);
  s.rope_sin.resize(static_cast<size_t>(n) * half);
  for (int i = 0; i < half; ++i) {
    const float inv = static_cast<float>(1.0 / std::pow(double(s.rope_base), 2.0 * i / hd));
    for (int t = 0; t < n; ++t) {
      const float ang = static_cast<float>(s.rope_pos[t]) * inv;
      s.rope_cos[static_cast<size_t>(t) * half + i] = std::cos(ang);
      s.rope_sin[static_cast<size_t>(t) * half + i] = std::sin(ang);
    }
  }
}

// Layer l on the T positions from index c0 of this call: their rows of x, in place, and their
// K/V into the layer's cache after attending. Every other buffer holds this chunk from row 0.
void Session::layer_chunk(int l, int c0, int T) {
  const Config& c = model_->config();
  const LayerWeights& lw = model_->weights().layers[l];
  State& s = *st_;
  const LayerQuant& lq = s.quant[l];
  const int d = c.d_model, hd = c.head_dim, ff = c.d_ff, nh = c.n_heads, nkv = kv_heads_;
  const int qd = nh * hd, kvd = nkv * hd, half = hd / 2;
  const size_t td = static_cast<size_t>(T);
  float* x = s.x.data() + static_cast<size_t>(c0) * d;
  const int32_t* pos = s.pos.data() + c0;
  const int last_pos = pos[T - 1];
  // Row-wise steps, each split over the pool when the chunk is big enough to pay for it.
  auto norm = [&](float* out, const float* in, const std::vector<float>& wn, int n_rows, int n) {
    s.rows(n_rows, n, [&](int r) {
      const size_t o = static_cast<size_t>(r) * n;
      rmsnorm_rows(out + o, in + o, wn.data(), 1, n, c.rms_eps);
    });
  };
  auto add = [&](float* acc, const float* y) {
    s.rows(T, d, [&](int t) {
      for (size_t i = static_cast<size_t>(t) * d; i < static_cast<size_t>(t + 1) * d; ++i)
        acc[i] += y[i];
    });
  };

  norm(s.xb.data(), x, lw.attn_norm, T, d);
  s.matmul(s.xb.data(), T, {{lq.wq, s.q.data()}, {lq.wk, s.k.data()}, {lq.wv, s.v.data()}});
  if (c.qk_norm) {
    norm(s.q.data(), s.q.data(), lw.q_norm, T * nh, hd);
    norm(s.k.data(), s.k.data(), lw.k_norm, T * nkv, hd);
  }
  s.rows(T, qd + kvd, [&](int t) {
    const size_t a = static_cast<size_t>(c0 + t) * half;
    rope(s.q.data() + static_cast<size_t>(t) * qd, 1, nh, hd, c.rope_style, &s.rope_cos[a],
         &s.rope_sin[a]);
    rope(s.k.data() + static_cast<size_t>(t) * kvd, 1, nkv, hd, c.rope_style, &s.rope_cos[a],
         &s.rope_sin[a]);
  });

  const CaptureSpec& cs = opts_.capture;
  if (l == cs.vectors_layer && cs.vectors_head >= 0 && cs.vectors_head < nh)
    capture_vectors(capture_.vectors, l, cs.vectors_head, s.q.data(), s.k.data(), s.v.data(), pos,
                    T, nh, nkv, hd);

  // Capture rows: where each kept (position, head) row goes.
  std::vector<float*> rows(td * nh, nullptr);
  bool any_rows = false;
  for (int t = 0; t < T; ++t)
    for (int h = 0; h < nh; ++h) {
      const int idx = s.capture_index[l * nh + h];
      if (idx >= 0 && pos[t] < s.cap_end) {
        const size_t q = static_cast<size_t>(pos[t]);
        rows[t * nh + h] = capture_.attention[idx].p.data() + q * (q + 1) / 2;
        any_rows = true;
      }
    }
  const bool scratch_only = opts_.on_rows && !any_rows;  // no map of this layer is kept
  if (opts_.on_rows) {  // every row, in scratch where the capture holds none
    s.row_scratch.resize(td * nh * (last_pos + 1));
    for (size_t i = 0; i < rows.size(); ++i)
      if (!rows[i]) rows[i] = s.row_scratch.data() + i * (last_pos + 1);
    any_rows = true;
  }

  LayerCache& lc = s.cache[l];
  AttentionCall call;
  call.n_q = T;
  call.n_heads = nh;
  call.n_kv_heads = nkv;
  call.head_dim = hd;
  call.scale = c.attn_scale;
  call.mask = plan_[l].mask;
  call.q_pos = pos;
  call.q = s.q.data();
  call.k_new = s.k.data();
  call.v_new = s.v.data();
  call.n_slots = lc.used;
  call.slot_pos = lc.slot_pos.data();
  call.k_cache = lc.k.data();
  call.v_cache = lc.v.data();
  call.out = s.att.data();
  call.prob_rows = any_rows ? rows.data() : nullptr;
  call.rows_from_first_key = scratch_only;
  const std::function<void(int, const std::function<void(int)>&)> on_pool =
      [&](int n, const std::function<void(int)>& fn) { s.pool->run(n, fn); };
  call.parallel = &on_pool;
  backend_->attention(call);
  if (opts_.on_rows) opts_.on_rows(l, pos, T, rows.data());

  // Written only after attending, so a ring never evicts a key this chunk still needs.
  ensure_capacity(lc, lc.ring > 0 ? std::min(lc.ring, last_pos + 1) : last_pos + 1, kvd);
  for (int t = 0; t < T; ++t) {
    const int slot = cache_slot(lc, pos[t], kvd);
    attn::write_cache_slot(lc.k.data(), lc.v.data(), lc.slot_pos.data(), slot, pos[t],
                           s.k.data() + t * kvd, s.v.data() + t * kvd, kvd);
  }
  lc.used = cache_used(lc, last_pos);
  if (opts_.attention_only && l == c.n_layers - 1) return;

  s.matmul(s.att.data(), T, {{lq.wo, s.o.data()}});
  if (c.post_norms) norm(s.o.data(), s.o.data(), lw.post_attn_norm, T, d);
  add(x, s.o.data());

  norm(s.xb.data(), x, lw.ffn_norm, T, d);
  s.matmul(s.xb.data(), T, {{lq.gate, s.gate.data()}, {lq.up, s.up.data()}});
  s.rows(T, static_cast<size_t>(ff) * 8, [&](int t) {
    float* g = s.gate.data() + static_cast<size_t>(t) * ff;
    const float* u = s.up.data() + static_cast<size_t>(t) * ff;
    if (c.gelu_tanh)
      gelu_tanh_mul(g, u, ff);
    else if (s.precision != Precision::Exact)
      silu_mul_draft(g, u, ff);
    else
      silu_mul(g, u, ff);
  });
  s.matmul(s.gate.data(), T, {{lq.down, s.o.data()}});
  if (c.post_norms) norm(s.o.data(), s.o.data(), lw.post_ffn_norm, T, d);
  add(x, s.o.data());
}

// Logits [n_out, vocab] of the last n_out of the T positions from index c0 of this call.
std::vector<float> Session::logits(int c0, int T, int n_out) {
  const Config& c = model_->config();
  State& s = *st_;
  const int d = c.d_model;
  const float* xr = s.x.data() + static_cast<size_t>(c0 + T - n_out) * d;
  s.rows(n_out, d, [&](int r) {
    const size_t o = static_cast<size_t>(r) * d;
    rmsnorm_rows(s.xb.data() + o, xr + o, model_->weights().output_norm.data(), 1, d, c.rms_eps);
  });
  std::vector<float> out(static_cast<size_t>(n_out) * c.vocab);
  s.matmul(s.xb.data(), n_out, {{s.lm_head, out.data()}});
  if (c.final_softcap > 0)
    s.rows(static_cast<int>((out.size() + 1023) / 1024), 1024 * 8, [&](int r) {
      const size_t end = std::min(out.size(), static_cast<size_t>(r + 1) * 1024);
      for (size_t i = static_cast<size_t>(r) * 1024; i < end; ++i)
        out[i] = c.final_softcap * std::tanh(out[i] / c.final_softcap);
    });
  return out;
}

// Layer-major: every chunk through layer 0, then every chunk through layer 1, ... Each chunk
// does the same arithmetic as run through all layers on its own (its attention reads the
// chunks before it in this layer's cache either way), so the results are the same bit for
// bit, and a layer's rows are final for every position as soon as it is done (layer_done).
std::vector<float> Session::run(const std::vector<int32_t>& tok, int pos0, int chunk,
                                int logits_from) {
  const Config& c = model_->config();
  State& s = *st_;
  const int n = static_cast<int>(tok.size());
  embed(tok, pos0);
  const size_t tc = static_cast<size_t>(std::min(chunk, n));  // scratch rows: one chunk
  const int qd = c.n_heads * c.head_dim, kvd = kv_heads_ * c.head_dim;
  for (std::vector<float>* b : {&s.xb, &s.o}) b->resize(tc * c.d_model);
  for (std::vector<float>* b : {&s.q, &s.att}) b->resize(tc * qd);
  for (std::vector<float>* b : {&s.k, &s.v}) b->resize(tc * kvd);
  for (std::vector<float>* b : {&s.gate, &s.up}) b->resize(tc * c.d_ff);
  for (int l = 0; l < c.n_layers; ++l) {
    rope_tables(l);
    // Room for this layer's rows only now: zeroing every map up front (142 MB at N = 512 with
    // every head) would delay layer 0 by about half a layer's work. Storage recycled from an
    // earlier pass (recycle_maps) keeps its bytes and is not zeroed at all: the rows from a.n
    // to cap_end are this call's positions, and the backend writes each of them whole
    // (AttentionCall::prob_rows).
    for (AttentionCapture& a : capture_.attention)
      if (a.layer == l) {
        a.n = std::max(a.n, s.cap_end);
        a.p.resize(static_cast<size_t>(a.n) * (a.n + 1) / 2, 0.0f);
      }
    for (int c0 = 0; c0 < n; c0 += chunk) {
      check_cancel();
      layer_chunk(l, c0, std::min(chunk, n - c0));
      if (opts_.progress) opts_.progress(++progress_done_, progress_total_);
    }
    if (opts_.layer_done) opts_.layer_done(l, capture_);
  }
  if (opts_.attention_only) return {};
  // Per chunk, as its own rows: the same products as a chunk-by-chunk pass.
  std::vector<float> out;
  for (int c0 = 0; c0 < n; c0 += chunk) {
    const int c1 = std::min(n, c0 + chunk), T = c1 - c0;
    if (logits_from >= 0 && c1 > logits_from) {
      const std::vector<float> lg = logits(c0, T, T);
      const size_t skip = static_cast<size_t>(std::max(0, logits_from - c0)) * c.vocab;
      out.insert(out.end(), lg.begin() + skip, lg.end());
    } else if (c1 == n) {
      out = logits(c0, T, 1);
    }
  }
  return out;
}

std::vector<float> Session::prefill(const std::vector<int32_t>& tokens, bool all_logits) {
  if (tokens.empty()) throw std::invalid_argument("prefill: no tokens");
  const bool none = opts_.variant.cache == CacheMode::None;
  // Without a cache every call recomputes the whole sequence from position 0.
  std::vector<int32_t> seq = tokens;
  int keep_from = 0;
  if (none) {
    seq = tokens_;
    seq.insert(seq.end(), tokens.begin(), tokens.end());
    keep_from = static_cast<int>(tokens_.size());
    for (size_t l = 0; l < st_->cache.size(); ++l) st_->cache[l] = empty_cache(plan_[l]);
  }
  const int pos0 = none ? 0 : static_cast<int>(tokens_.size());
  const int n = static_cast<int>(seq.size());
  const int chunk = opts_.variant.chunk > 0 ? opts_.variant.chunk : n;
  progress_done_ = 0;
  progress_total_ = (n + chunk - 1) / chunk * model_->config().n_layers;
  // Logits for the kept positions of every chunk (all_logits) or the final token.
  std::vector<float> out = run(seq, pos0, chunk, all_logits ? keep_from : -1);
  if (none) {
    tokens_ = std::move(seq);
  } else {
    tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
  }
  capture_.n_tokens = static_cast<int>(tokens_.size());
  update_cache_capture();
  if (none)  // nothing survives the pass; the capture above shows what it held at the end
    for (size_t l = 0; l < st_->cache.size(); ++l) st_->cache[l] = empty_cache(plan_[l]);
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
    // A ring shows all W slots (those not allocated yet are empty); bytes are what is held.
    cc.n_slots = lc.ring > 0 ? lc.ring : lc.capacity;
    cc.n_kv_heads = nkv;
    cc.bytes = (lc.k.capacity() + lc.v.capacity()) * sizeof(float);
    cc.slot_pos = lc.slot_pos;
    cc.slot_pos.resize(cc.n_slots, -1);
    cc.block = lc.paged.block;
    if (cc.block > 0) {
      cc.block_table = lc.paged.table.tables[0];
      cc.pool_blocks = static_cast<int>(lc.paged.table.ref.size());
      cc.blocks_in_use = static_cast<int>(paged_blocks_in_use(lc.paged.table));
      cc.tokens_in_blocks = static_cast<int>(paged_tokens_stored(lc.paged.table));
    }
    cc.k_norm.assign(static_cast<size_t>(cc.n_slots) * nkv, 0.0f);
    cc.v_norm.assign(static_cast<size_t>(cc.n_slots) * nkv, 0.0f);
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
