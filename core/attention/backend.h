// The seam between the forward pass and whatever computes attention. The CPU backend lives in
// core (cpu_attention.h); a CUDA backend in kernels/ implements the same call.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/attention/spec.h"

namespace core {

// One attention call for a chunk of n_q consecutive queries of one layer. Keys come from two
// places: the cache as it was before this chunk (slot_pos says which position each slot holds)
// and the chunk's own fresh K/V. Attending before writing is what lets a rolling cache of
// exactly W slots serve a chunk longer than the free room in the ring.
struct AttentionCall {
  int n_q = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  float scale = 0;  // multiplies q·k
  attn::MaskSpec mask;
  const int32_t* q_pos = nullptr;  // [n_q] positions of the queries (== positions of k_new)
  const float* q = nullptr;        // [n_q, n_heads, head_dim]
  const float* k_new = nullptr;    // [n_q, n_kv_heads, head_dim]
  const float* v_new = nullptr;    // [n_q, n_kv_heads, head_dim]
  int n_slots = 0;
  const int32_t* slot_pos = nullptr;  // [n_slots] position held, -1 = empty
  const float* k_cache = nullptr;     // [n_slots, n_kv_heads, head_dim]
  const float* v_cache = nullptr;     // [n_slots, n_kv_heads, head_dim]
  float* out = nullptr;               // [n_q, n_heads, head_dim]
  // Optional capture: rows[t * n_heads + h] points at q_pos[t] + 1 floats (keys 0..q) that
  // receive the probabilities, every one of them written (hidden keys 0: the caller may hand
  // over storage that holds an earlier pass's rows); null entries (or a null array) are not
  // captured.
  float* const* prob_rows = nullptr;
  // The rows are scratch whose reader looks only at keys [attn::band_first_key, q] under a
  // band mask: a backend may leave the keys before unwritten (the CPU prefill does).
  bool rows_from_first_key = false;
  // Optional: runs fn(i) for every i < n on the caller's threads and returns when all are done
  // (the forward pass lends its pool, whose threads are awake between the projections). Null:
  // the CPU backend starts its own threads where the work pays for them.
  const std::function<void(int n, const std::function<void(int)>& fn)>* parallel = nullptr;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual void attention(const AttentionCall& call) = 0;
};

// The CPU reference backend, threaded over heads and queries.
std::unique_ptr<Backend> make_cpu_backend(int n_threads = 0);

// The backend a model Session uses when RunOptions::backend is null: the CPU backend unless
// the program installed a factory at start-up. app/main.cpp installs the one
// kernels::select_backend() chose, so the GUI and the CLI both run on the GPU when there is
// one. A factory rather than one shared object, because sessions on different threads must
// not share a backend's scratch buffers.
using BackendFactory = std::function<std::shared_ptr<Backend>(int n_threads)>;
void set_default_backend(BackendFactory factory, std::string description);
std::shared_ptr<Backend> make_default_backend(int n_threads);
// One sentence saying which backend runs and why ("backend: CPU (2 threads) ...").
std::string default_backend_description();

}  // namespace core
