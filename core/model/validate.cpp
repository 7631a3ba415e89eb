#include "core/model/validate.h"

#include <cmath>
#include <string>

#include "core/model/dequant.h"
#include "core/model/tokenizer.h"
#include "core/model/weights.h"

namespace core::model {
namespace {

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// Every tensor the config implies: present, shaped as the config says, decodable.
void check_tensor_table(const GgufFile& f, const Config& c) {
  for (const TensorSpec& s : tensor_specs(c)) {
    const TensorInfo* t = f.find_tensor(s.name);
    if (!t) f.fail("missing tensor " + s.name);
    if (t->dims != s.dims)
      f.fail("tensor " + s.name + " has shape " + shape_text(t->dims) + ", the metadata implies " +
             shape_text(s.dims));
    if (!can_dequantize(t->type))
      f.fail(std::string("unsupported quant type ") + tensor_type_name(t->type) + " for tensor " +
             s.name);
  }
  // A layer tensor past block_count means the count was cut: refuse rather than run fewer.
  for (const TensorInfo& t : f.tensors()) {
    if (t.name.rfind("blk.", 0) != 0) continue;
    const size_t dot = t.name.find('.', 4);
    const std::string idx = t.name.substr(4, dot == std::string::npos ? 0 : dot - 4);
    if (idx.empty() || idx.size() > 6 || idx.find_first_not_of("0123456789") != std::string::npos)
      f.fail("tensor " + t.name + " has no layer number");
    if (std::stoi(idx) >= c.n_layers)
      f.fail("tensor " + t.name + " belongs to layer " + idx + " but " + arch_name(c.arch) +
             ".block_count is " + std::to_string(c.n_layers));
  }
}

void check_head_sizes(const GgufFile& f, const Config& c) {
  const std::string p = std::string(arch_name(c.arch)) + ".";
  if (f.has(p + "attention.value_length") && f.get_int(p + "attention.value_length") != c.head_dim)
    f.fail("metadata " + p +
           "attention.value_length = " + std::to_string(f.get_int(p + "attention.value_length")) +
           " differs from " + p + "attention.key_length = " + std::to_string(c.head_dim));
  // The forward pass rotates the whole head; a partial rotary size would be silently wrong.
  if (f.has(p + "rope.dimension_count")) {
    const int64_t r = f.get_int(p + "rope.dimension_count");
    if (r % 2 != 0 || r != c.head_dim)
      f.fail("metadata " + p + "rope.dimension_count = " + std::to_string(r) +
             " must be even and equal the head size " + std::to_string(c.head_dim));
  }
}

// The tokenizer arrays: one entry per embedding row, known types, finite scores, byte tokens
// that parse, each byte once, special ids inside the vocabulary.
void check_tokenizer(const GgufFile& f, const Config& c) {
  const std::string kTokens = "tokenizer.ggml.tokens";
  const GgufValue* tokens = f.find(kTokens);
  if (!tokens) return;  // a model without a tokenizer still runs on token ids
  const std::vector<std::string> toks = f.get_string_array(kTokens);
  if (toks.size() != static_cast<size_t>(c.vocab))
    f.fail("metadata " + kTokens + " has " + std::to_string(toks.size()) +
           " entries but token_embd.weight has " + std::to_string(c.vocab) + " rows");
  std::vector<int32_t> types;
  if (f.has("tokenizer.ggml.token_type")) {
    types = f.get_int_array("tokenizer.ggml.token_type");
    if (types.size() != toks.size())
      f.fail("metadata tokenizer.ggml.token_type has " + std::to_string(types.size()) +
             " entries for " + std::to_string(toks.size()) + " tokens");
  }
  if (f.has("tokenizer.ggml.scores")) {
    const std::vector<float> scores = f.get_float_array("tokenizer.ggml.scores");
    if (scores.size() != toks.size())
      f.fail("metadata tokenizer.ggml.scores has " + std::to_string(scores.size()) +
             " entries for " + std::to_string(toks.size()) + " tokens");
    for (size_t i = 0; i < scores.size(); ++i)
      if (!std::isfinite(scores[i]))
        f.fail("metadata tokenizer.ggml.scores[" + std::to_string(i) + "] is not finite");
  }
  std::vector<int> byte_owner(256, -1);
  for (size_t i = 0; i < types.size(); ++i) {
    if (!is_token_type(types[i]))
      f.fail("metadata tokenizer.ggml.token_type[" + std::to_string(i) +
             "] = " + std::to_string(types[i]) + " is not a token type (0..6)");
    if (types[i] != static_cast<int32_t>(TokenType::Byte)) continue;
    const int b = parse_byte_token(toks[i]);
    if (b < 0)
      f.fail("metadata " + kTokens + "[" + std::to_string(i) + "] = '" + toks[i] +
             "' has token type byte but is not <0x00>..<0xFF>");
    if (byte_owner[b] >= 0)
      f.fail("metadata " + kTokens + "[" + std::to_string(i) + "] = '" + toks[i] +
             "' repeats byte token " + std::to_string(byte_owner[b]));
    byte_owner[b] = static_cast<int>(i);
  }
  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                          "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"}) {
    if (!f.has(key)) continue;
    const int64_t id = f.get_int(key);
    if (id < -1 || id >= c.vocab)
      f.fail(std::string("metadata ") + key + " = " + std::to_string(id) +
             " is outside the vocabulary (0.." + std::to_string(c.vocab - 1) + ")");
  }
}

}  // namespace

void validate_model(const GgufFile& f, const Config& c) {
  check_tensor_table(f, c);
  check_head_sizes(f, c);
  check_tokenizer(f, c);
}

}  // namespace core::model
