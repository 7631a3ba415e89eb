#include "core/model/tokenizer_gguf.h"

#include <cstdint>

namespace core::model {
namespace {

bool get_bool_or(const GgufFile& f, const std::string& key, bool fallback) {
  const GgufValue* v = f.find(key);
  if (!v) return fallback;
  if (v->type != GgufType::Bool) f.fail("metadata " + key + " is not a bool");
  return v->u != 0;
}

// A token id key; -1 when absent. Range-checked before it narrows (the tokenizer then checks
// it against the vocabulary).
int32_t get_id(const GgufFile& f, const std::string& key) {
  const int64_t v = f.get_int(key, -1);
  if (v < -1 || v > INT32_MAX)
    f.fail("metadata " + key + " = " + std::to_string(v) + " is not a token id");
  return static_cast<int32_t>(v);
}

}  // namespace

TokenizerData tokenizer_data_from_gguf(const GgufFile& f) {
  TokenizerData d;
  d.arch = f.has("general.architecture") ? f.get_string("general.architecture") : "";
  d.model = f.get_string("tokenizer.ggml.model");
  d.pre = f.has("tokenizer.ggml.pre") ? f.get_string("tokenizer.ggml.pre") : "default";
  d.tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (f.has("tokenizer.ggml.scores")) d.scores = f.get_float_array("tokenizer.ggml.scores");
  if (f.has("tokenizer.ggml.token_type")) {
    d.token_types = f.get_int_array("tokenizer.ggml.token_type");
  }
  if (f.has("tokenizer.ggml.merges")) d.merges = f.get_string_array("tokenizer.ggml.merges");
  d.bos = get_id(f, "tokenizer.ggml.bos_token_id");
  d.eos = get_id(f, "tokenizer.ggml.eos_token_id");
  d.unk = get_id(f, "tokenizer.ggml.unknown_token_id");
  d.pad = get_id(f, "tokenizer.ggml.padding_token_id");
  // Defaults follow llama.cpp: a SentencePiece vocabulary adds BOS and a prefix space unless
  // the file says otherwise; a byte-level one adds neither.
  const bool spm = d.model == "llama";
  d.add_bos = get_bool_or(f, "tokenizer.ggml.add_bos_token", spm);
  d.add_eos = get_bool_or(f, "tokenizer.ggml.add_eos_token", false);
  d.add_space_prefix = get_bool_or(f, "tokenizer.ggml.add_space_prefix", spm);
  return d;
}

Tokenizer load_tokenizer(const GgufFile& f) {
  try {
    return Tokenizer::from_data(tokenizer_data_from_gguf(f));
  } catch (const ModelError&) {
    throw;
  } catch (const std::exception& e) {
    f.fail(e.what());
  }
}

}  // namespace core::model
