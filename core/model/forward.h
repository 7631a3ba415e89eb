// The CPU runtime: a loaded Model (config + the mapped GGUF weights, shared and immutable) and
// Sessions that run it with a ModelVariant (window override, kv-head pooling, cache mode, chunked
// prefill), capturing attention probabilities and cache state for the views.
//
//   auto m = core::model::Model::load(path);
//   core::model::Session s(m, opts);
//   std::vector<float> logits = s.prefill(ids);   // [vocab] for the last token
//   logits = s.decode(next_id);                   // [vocab]
//   const core::model::Capture& cap = s.capture();
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/attention/backend.h"
#include "core/model/catalog.h"
#include "core/model/config.h"
#include "core/model/gguf.h"
#include "core/model/qgemm_bf16.h"
#include "core/model/variant.h"
#include "core/model/weights.h"

namespace core {

// Thrown out of prefill/decode when the cancel flag was raised; the session is then reset.
struct Cancelled : std::exception {
  const char* what() const noexcept override { return "cancelled"; }
};

namespace model {

class Model {
 public:
  // Maps, parses and checks every tensor. The forward pass reads the quantized blocks from the
  // mapping; `f32_matrices` also keeps f32 copies of the matrices in weights() (for tests and
  // tools that inspect them). Throws ModelError naming the file and the problem.
  static std::shared_ptr<const Model> load(const std::string& path, int n_threads = 0,
                                           bool f32_matrices = false);
  const Config& config() const { return config_; }
  const Weights& weights() const { return weights_; }
  const GgufFile& gguf() const { return *file_; }
  const std::string& path() const { return file_->path(); }
  double load_seconds() const { return load_seconds_; }

 private:
  Model() = default;
  std::unique_ptr<GgufFile> file_;
  Config config_;
  Weights weights_;
  double load_seconds_ = 0;
};

// Which attention probabilities to keep. Empty lists mean all layers / all heads.
struct CaptureSpec {
  bool attention = true;
  int max_positions = 1024;  // with empty lists, capture stops beyond this many positions
  std::vector<int> layers;
  std::vector<int> heads;
  bool cache = true;  // per-slot cache state after each call
  // One query head's q, k and v rows (the flash view's online-softmax trace): -1 = none.
  int vectors_layer = -1, vectors_head = -1;
};

// Probabilities of one (layer, head): lower-triangular rows, row q holds keys 0..q at offset
// q*(q+1)/2. Keys the mask hid (or the rolling cache had evicted) are 0.
struct AttentionCapture {
  int layer = 0;
  int head = 0;
  int n = 0;             // rows captured (positions 0..n-1)
  std::vector<float> p;  // [n*(n+1)/2]
  float at(int q, int k) const { return p[static_cast<size_t>(q) * (q + 1) / 2 + k]; }
  const float* row(int q) const { return p.data() + static_cast<size_t>(q) * (q + 1) / 2; }
};

// What one layer's cache holds right now.
struct CacheCapture {
  int layer = 0;
  int n_slots = 0;
  int n_kv_heads = 0;
  std::vector<int32_t> slot_pos;  // [n_slots] position held, -1 = empty
  std::vector<float> k_norm;      // [n_slots, n_kv_heads] L2 norm of the stored key
  std::vector<float> v_norm;      // [n_slots, n_kv_heads]
  size_t bytes = 0;               // bytes this layer's K+V buffers allocated
  // CacheMode::Paged: the layer's block table as the runtime holds it (B = 0 otherwise).
  int block = 0;                 // B, tokens per physical block
  std::vector<int> block_table;  // [logical blocks] physical id, -1 = released (window passed)
  int pool_blocks = 0;           // physical blocks in the pool (n_slots / B), free ones included
  int blocks_in_use = 0;         // physical blocks a sequence holds (ref > 0)
  int tokens_in_blocks = 0;      // filled slots of those blocks
};

// What one query head computed: its q rows and the k, v rows of the K/V head it reads, as
// attention sees them (after q/k norm and RoPE, after K/V pooling).
struct HeadVectors {
  int layer = -1, head = -1;  // -1: nothing captured
  int kv_head = 0;
  int head_dim = 0;
  int n = 0;                   // positions captured (0..n-1)
  std::vector<float> q, k, v;  // [n, head_dim] each
};

struct Capture {
  int n_tokens = 0;     // positions processed so far
  HeadVectors vectors;  // CaptureSpec::vectors_layer / vectors_head
  // [n_tokens] the RoPE position each token ran at: its sequence position, or its position
  // inside its packed prompt (ModelVariant::segments), restarting at 0 per prompt.
  std::vector<int32_t> rope_positions;
  std::vector<AttentionCapture> attention;
  std::vector<CacheCapture> cache;  // [n_layers]
  size_t cache_bytes = 0;           // sum over layers; 0 for CacheMode::None between passes
  const AttentionCapture* find(int layer, int head) const;
};

// The effective per-layer attention settings after applying a ModelVariant.
struct LayerPlan {
  // Causal or SlidingWindow; Sparse with ModelVariant::sparse_local; BlockDiagonal (keeping
  // the layer's window) with ModelVariant::segments.
  attn::MaskSpec mask;
  // BlockDiagonal: the segment ends mask.segment_ends points into, shared by every copy of
  // the plan so the pointer stays valid as long as one copy lives. [segments - 1]: the last
  // segment is open (decode steps continue it).
  std::shared_ptr<const std::vector<int32_t>> segment_ends;
  int cache_slots = 0;  // rolling: window slots; 0 = grows with the sequence
  int cache_block = 0;  // paged: tokens per block (core/model/paged_cache.h); 0 = not paged
};
std::vector<LayerPlan> plan_layers(const Config& c, const ModelVariant& v);

// Rows q < rows_in_common(a, b) see the same keys in every layer under both plans, so their
// K/V and hidden states are the same in every layer: a pass under b may keep them from a pass
// under a (Session::truncate). Layers whose masks differ agree on the rows that are still
// plain causal under both (attn::causal_rows); INT32_MAX when every mask is the same.
int rows_in_common(const std::vector<LayerPlan>& a, const std::vector<LayerPlan>& b);

struct RunOptions {
  ModelVariant variant;
  CaptureSpec capture;
  int n_threads = 0;                                  // 0 = hardware_concurrency
  const std::atomic<bool>* cancel = nullptr;          // polled between layers
  std::function<void(int done, int total)> progress;  // layer passes done / to do in this call
  std::shared_ptr<Backend> backend;                   // null = CPU backend
  // Called after each layer's attention with every probability row of the chunk:
  // rows[t * n_heads + h] holds keys 0..pos[t] (hidden keys 0). Rows the capture does not
  // keep sit in scratch of [T, n_heads, positions] floats, so long prompts run chunked; in a
  // layer with no captured rows, a band mask's keys before attn::band_first_key may be left
  // unwritten (read from there on).
  std::function<void(int layer, const int32_t* pos, int n_q, float* const* rows)> on_rows;
  // Multi-token products in f32 (Exact, what dump, ppl, export and the tests use) or as a
  // draft for the live views: bf16-rounded operands (qgemm_bf16.h) or int8 blocks
  // (qgemm_int8.h). Single-token products and attention are f32 either way.
  Precision precision = Precision::Exact;
  // The caller reads only the captured attention and the caches (the live views): the last
  // layer stops once its K/V are stored and its attention ran (its output projection and
  // FFN feed only the logits), and prefill returns no logits. Resuming such a session is
  // unaffected: a later call's positions read the K/V of every layer, not its hidden states.
  bool attention_only = false;
  // Called after layer l of a prefill, when every captured row of layer l is final (the live
  // views publish the layers done so far). A chunked prefill runs layer-major (every chunk
  // through layer l before layer l + 1), so layer 0 of every position is final first.
  std::function<void(int layer, const Capture& capture)> layer_done;
};

class Session {
 public:
  Session(std::shared_ptr<const Model> model, RunOptions opts);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs the tokens (in chunks of variant.chunk) after whatever the session already holds.
  // Returns the logits of the last token [vocab], or of every token [n, vocab] when
  // all_logits is set.
  std::vector<float> prefill(const std::vector<int32_t>& tokens, bool all_logits = false);
  // One token; with CacheMode::None this recomputes the whole sequence.
  std::vector<float> decode(int32_t token);
  void reset();
  // Allocates every growing layer cache for n_positions now (a ring for at most its window,
  // a paged pool as it goes), as llama.cpp's n_ctx does before the first token: otherwise a
  // cache grows, doubling, at the step that outgrows it.
  void reserve(int n_positions);
  // Keeps the first n_keep positions (every layer's K/V, their captured attention rows),
  // forgets the rest and runs what follows under variant v. The caller vouches that rows
  // below n_keep are the same under v (rows_in_common of the two plans) and for the tokens it
  // will prefill next. Needs a growing cache (CacheMode::Full) and the same K/V heads under
  // both variants; throws std::invalid_argument otherwise.
  void truncate(int n_keep, const ModelVariant& v);

  // Moves the captured attention out (the entries stay, empty, for the next call; the cache
  // state stays). restore_rows puts rows q < n_keep of such a capture back after truncate.
  Capture take_capture();
  void restore_rows(const Capture& from, int n_keep);
  // Gives maps without storage (after take_capture) buffers from `spare` to write into: a
  // buffer with room for the next pass's rows spares the pages a new one faults in. What the
  // maps do not take stays in `spare`.
  void recycle_maps(std::vector<std::vector<float>>& spare);
  // Replaces the cancel flag and the progress and layer_done callbacks of RunOptions (a session
  // kept between passes reports under the caller of the pass at hand).
  void set_control(const std::atomic<bool>* cancel, std::function<void(int, int)> progress,
                   std::function<void(int, const Capture&)> layer_done = nullptr);
  const Capture& capture() const { return capture_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  const Config& config() const { return model_->config(); }
  const std::vector<LayerPlan>& plan() const { return plan_; }
  int kv_heads() const { return kv_heads_; }
  const char* backend_name() const { return backend_->name(); }
  // Wall ms this session has spent packing the int8 draft's weights (once per matrix, on the
  // first pass that multiplies by it; qgemm_int8.h): set-up, not the pass's own work.
  double setup_ms() const;

 private:
  struct State;
  // The tokens from position pos0, layer by layer over chunks of `chunk`; the logits of every
  // token from index logits_from on ([n - logits_from, vocab]), or of the last one (-1).
  std::vector<float> run(const std::vector<int32_t>& tokens, int pos0, int chunk, int logits_from);
  void embed(const std::vector<int32_t>& tokens, int pos0);
  void rope_tables(int layer);
  void layer_chunk(int layer, int c0, int n_tokens);
  std::vector<float> logits(int c0, int n_tokens, int n_out);
  void check_cancel();
  void update_cache_capture();
  std::shared_ptr<const Model> model_;
  RunOptions opts_;
  std::vector<LayerPlan> plan_;
  int kv_heads_ = 0;
  std::vector<std::vector<float>> pooled_wk_, pooled_wv_;  // [n_layers] when kv_heads pooled
  std::shared_ptr<Backend> backend_;
  std::unique_ptr<State> st_;
  std::vector<int32_t> tokens_;
  Capture capture_;
  int progress_done_ = 0;
  int progress_total_ = 0;
};

}  // namespace model
}  // namespace core
