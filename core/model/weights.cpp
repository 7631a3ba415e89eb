#include "core/model/weights.h"

#include <algorithm>
#include <string>
#include <thread>

#include "core/model/dequant.h"
#include "core/model/qgemv.h"
#include "core/model/tensor_names.h"

namespace core::model {

namespace {

// Dequantizes a named tensor after checking its shape (`dims` in ggml order); a matrix only
// when `keep`, else it is only checked.
std::vector<float> load(const GgufFile& f, const std::string& name, std::vector<int64_t> dims,
                        bool keep = true) {
  const TensorInfo& t = f.tensor(name);
  if (t.dims != dims) {
    std::string want, got;
    for (int64_t d : dims) want += std::to_string(d) + " ";
    for (int64_t d : t.dims) got += std::to_string(d) + " ";
    f.fail("tensor " + name + " has shape [" + got + "], expected [" + want + "]");
  }
  if (!can_dequantize(t.type))
    f.fail(std::string("unsupported quant type ") + tensor_type_name(t.type) + " for tensor " +
           name);
  if (dims.size() == 2 && !qgemv_supported(t.type, static_cast<int>(dims[0])))
    f.fail(std::string("tensor ") + name + " of type " + tensor_type_name(t.type) +
           " has rows that are not whole blocks");
  if (!keep) return {};
  std::vector<float> out(t.n_elems);
  dequantize(t.type, t.data, out.data(), static_cast<int64_t>(t.n_elems));
  return out;
}

}  // namespace

Weights load_weights(const GgufFile& f, const Config& c, int n_threads, bool f32_matrices) {
  const bool m = f32_matrices;
  Weights w;
  const int64_t d = c.d_model, hd = c.head_dim, ff = c.d_ff;
  const int64_t q_dim = c.n_heads * hd, kv_dim = c.n_kv_heads * hd;
  const TensorNames& n = tensor_names(c.arch);
  w.token_embd = load(f, n.token_embd, {d, c.vocab}, m);
  if (!c.tied_embeddings) w.output = load(f, n.output, {d, c.vocab}, m);
  w.output_norm = load(f, n.output_norm, {d});
  w.layers.resize(c.n_layers);
  // Layers are independent, so they dequantize in parallel; the first error wins.
  const int nt = std::max(
      1, n_threads > 0 ? n_threads : static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<std::exception_ptr> errors(c.n_layers);
  auto work = [&](int t) {
    for (int i = t; i < c.n_layers; i += nt) {
      try {
        auto name = [&](const char* tensor) { return layer_tensor(i, tensor); };
        LayerWeights& l = w.layers[i];
        l.attn_norm = load(f, name(n.attn_norm), {d});
        l.wq = load(f, name(n.attn_q), {d, q_dim}, m);
        l.wk = load(f, name(n.attn_k), {d, kv_dim}, m);
        l.wv = load(f, name(n.attn_v), {d, kv_dim}, m);
        l.wo = load(f, name(n.attn_output), {q_dim, d}, m);
        l.ffn_norm = load(f, name(n.ffn_norm), {d});
        l.w_gate = load(f, name(n.ffn_gate), {d, ff}, m);
        l.w_up = load(f, name(n.ffn_up), {d, ff}, m);
        l.w_down = load(f, name(n.ffn_down), {ff, d}, m);
        if (c.qk_norm) {
          l.q_norm = load(f, name(n.attn_q_norm), {hd});
          l.k_norm = load(f, name(n.attn_k_norm), {hd});
        }
        if (c.post_norms) {
          l.post_attn_norm = load(f, name(n.post_attn_norm), {d});
          l.post_ffn_norm = load(f, name(n.post_ffn_norm), {d});
        }
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return w;
}

std::vector<float> pool_kv_heads(const std::vector<float>& w, int n_kv, int kv_heads, int head_dim,
                                 int d_model) {
  const int g = n_kv / kv_heads;
  const size_t head_size = static_cast<size_t>(head_dim) * d_model;
  std::vector<float> out(static_cast<size_t>(kv_heads) * head_size, 0.0f);
  // Sum first, then divide once: the mean as torch computes it, so the pooled weights are
  // the reference's to the bit and the golden test sees only the forward pass.
  for (int j = 0; j < kv_heads; ++j) {
    float* dst = out.data() + j * head_size;
    for (int m = 0; m < g; ++m) {
      const float* src = w.data() + (static_cast<size_t>(j) * g + m) * head_size;
      for (size_t i = 0; i < head_size; ++i) dst[i] += src[i];
    }
    for (size_t i = 0; i < head_size; ++i) dst[i] /= static_cast<float>(g);
  }
  return out;
}

}  // namespace core::model
