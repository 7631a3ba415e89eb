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
// when `f32_matrices`, else it is only checked (the forward pass reads its blocks).
std::vector<float> load(const GgufFile& f, const std::string& name, std::vector<int64_t> dims,
                        bool f32_matrices) {
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
  if (dims.size() == 2 && !f32_matrices) return {};
  std::vector<float> out(t.n_elems);
  dequantize(t.type, t.data, out.data(), static_cast<int64_t>(t.n_elems));
  return out;
}

}  // namespace

std::vector<TensorSpec> tensor_specs(const Config& c) {
  const int64_t d = c.d_model, hd = c.head_dim, ff = c.d_ff;
  const int64_t q_dim = int64_t{c.n_heads} * hd, kv_dim = int64_t{c.n_kv_heads} * hd;
  const TensorNames& n = tensor_names(c.arch);
  std::vector<TensorSpec> s;
  s.push_back({n.token_embd, {d, c.vocab}, -1, &Weights::token_embd, nullptr});
  if (!c.tied_embeddings) s.push_back({n.output, {d, c.vocab}, -1, &Weights::output, nullptr});
  s.push_back({n.output_norm, {d}, -1, &Weights::output_norm, nullptr});
  for (int i = 0; i < c.n_layers; ++i) {
    auto add = [&](const char* name, std::vector<int64_t> dims,
                   std::vector<float> LayerWeights::*field) {
      if (name) s.push_back({layer_tensor(i, name), std::move(dims), i, nullptr, field});
    };
    add(n.attn_norm, {d}, &LayerWeights::attn_norm);
    add(n.attn_q, {d, q_dim}, &LayerWeights::wq);
    add(n.attn_k, {d, kv_dim}, &LayerWeights::wk);
    add(n.attn_v, {d, kv_dim}, &LayerWeights::wv);
    add(n.attn_output, {q_dim, d}, &LayerWeights::wo);
    add(n.ffn_norm, {d}, &LayerWeights::ffn_norm);
    add(n.ffn_gate, {d, ff}, &LayerWeights::w_gate);
    add(n.ffn_up, {d, ff}, &LayerWeights::w_up);
    add(n.ffn_down, {ff, d}, &LayerWeights::w_down);
    add(n.attn_q_norm, {hd}, &LayerWeights::q_norm);
    add(n.attn_k_norm, {hd}, &LayerWeights::k_norm);
    add(n.post_attn_norm, {d}, &LayerWeights::post_attn_norm);
    add(n.post_ffn_norm, {d}, &LayerWeights::post_ffn_norm);
  }
  return s;
}

Weights load_weights(const GgufFile& f, const Config& c, int n_threads, bool f32_matrices) {
  Weights w;
  w.layers.resize(c.n_layers);
  const std::vector<TensorSpec> specs = tensor_specs(c);
  for (const TensorSpec& t : specs)
    if (t.layer < 0) w.*t.model_field = load(f, t.name, t.dims, f32_matrices);
  // Layers are independent, so they dequantize in parallel; the first error wins.
  const int nt = std::max(
      1, n_threads > 0 ? n_threads : static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<std::exception_ptr> errors(c.n_layers);
  auto work = [&](int t) {
    for (const TensorSpec& s : specs) {
      if (s.layer < 0 || s.layer % nt != t || errors[s.layer]) continue;
      try {
        w.layers[s.layer].*s.layer_field = load(f, s.name, s.dims, f32_matrices);
      } catch (...) {
        errors[s.layer] = std::current_exception();
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
