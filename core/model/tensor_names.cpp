#include "core/model/tensor_names.h"

namespace core::model {
namespace {

constexpr TensorNames kLlama = {
    "token_embd.weight",
    "output.weight",
    "output_norm.weight",
    "attn_norm.weight",
    "attn_q.weight",
    "attn_k.weight",
    "attn_v.weight",
    "attn_output.weight",
    "ffn_norm.weight",
    "ffn_gate.weight",
    "ffn_up.weight",
    "ffn_down.weight",
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

constexpr TensorNames kGemma3 = {
    "token_embd.weight",    "output.weight",      "output_norm.weight",
    "attn_norm.weight",     "attn_q.weight",      "attn_k.weight",
    "attn_v.weight",        "attn_output.weight", "ffn_norm.weight",
    "ffn_gate.weight",      "ffn_up.weight",      "ffn_down.weight",
    "attn_q_norm.weight",   "attn_k_norm.weight", "post_attention_norm.weight",
    "post_ffw_norm.weight",
};

}  // namespace

const TensorNames& tensor_names(Arch a) {
  return a == Arch::Gemma3 ? kGemma3 : kLlama;
}

std::string layer_tensor(int layer, const char* name) {
  return "blk." + std::to_string(layer) + "." + name;
}

}  // namespace core::model
