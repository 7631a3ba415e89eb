// Seeds for the fuzzers from a downloaded model: `make_seeds MODEL.gguf GGUF_OUT TOK_OUT`
// writes (1) the model shrunk to one layer of width 32 with its real metadata and the first
// 600 tokens of its real vocabulary (zero F16 weights, about 60 KB), checked to load, and
// (2) the same vocabulary and 300 of its merges in fuzz_tokenizer's format.
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "core/model/config.h"
#include "core/model/tokenizer_gguf.h"
#include "tests/fuzz/tokenizer_input.h"
#include "tests/unit/gguf_edit.h"

using test_support::GgufEdit;

namespace {

constexpr uint64_t kTokens = 600, kMerges = 300, kD = 32, kFf = 64, kHd = 16;

GgufEdit shrink(const core::model::GgufFile& f) {
  const core::model::Config c = core::model::read_config(f);
  GgufEdit e = GgufEdit::from(f);
  const std::string p = std::string(core::model::arch_name(c.arch)) + ".";
  e.set_u32(p + "block_count", 1);
  e.set_u32(p + "embedding_length", kD);
  e.set_u32(p + "feed_forward_length", kFf);
  e.set_u32(p + "attention.head_count", 2);
  e.set_u32(p + "attention.head_count_kv", 1);
  e.set_u32(p + "attention.key_length", kHd);
  if (e.find(p + "attention.value_length")) e.set_u32(p + "attention.value_length", kHd);
  if (e.find(p + "rope.dimension_count")) e.set_u32(p + "rope.dimension_count", kHd);
  std::vector<std::string> toks = e.strings("tokenizer.ggml.tokens");
  toks.resize(kTokens);
  e.set_strings("tokenizer.ggml.tokens", toks);
  if (e.find("tokenizer.ggml.scores")) {
    auto s = e.numbers<float>("tokenizer.ggml.scores");
    s.resize(kTokens);
    e.set_numbers("tokenizer.ggml.scores", 6, s);
  }
  if (e.find("tokenizer.ggml.token_type")) {
    auto t = e.numbers<int32_t>("tokenizer.ggml.token_type");
    t.resize(kTokens);
    e.set_numbers("tokenizer.ggml.token_type", 5, t);
  }
  if (e.find("tokenizer.ggml.merges")) {
    std::vector<std::string> m = e.strings("tokenizer.ggml.merges");
    m.resize(std::min<size_t>(m.size(), kMerges));
    e.set_strings("tokenizer.ggml.merges", m);
  }
  for (const char* k : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                        "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"})
    if (f.has(k) && f.get_int(k) >= static_cast<int64_t>(kTokens)) e.erase(k);
  const std::map<uint64_t, uint64_t> dims = {{c.d_model, kD},
                                             {uint64_t(c.vocab), kTokens},
                                             {c.d_ff, kFf},
                                             {uint64_t(c.head_dim), kHd},
                                             {uint64_t(c.n_kv_heads) * c.head_dim, kHd},
                                             {uint64_t(c.n_heads) * c.head_dim, 2 * kHd}};
  std::vector<GgufEdit::Tensor> kept;
  uint64_t offset = 0;
  for (GgufEdit::Tensor t : e.tensors) {
    if (t.name.rfind("blk.", 0) == 0 && t.name.rfind("blk.0.", 0) != 0) continue;
    uint64_t n = 1;
    for (uint64_t& d : t.dims) n *= (d = dims.at(d));
    t.type = 1;  // F16
    t.offset = offset;
    offset += (n * 2 + 31) / 32 * 32;
    kept.push_back(t);
  }
  e.tensors = kept;
  e.data_bytes = offset;
  return e;
}

std::string tokenizer_seed(const core::model::GgufFile& f) {
  const core::model::TokenizerData d = core::model::tokenizer_data_from_gguf(f);
  uint8_t flags = (d.model == "llama" ? 1 : 0) | (d.arch.rfind("gemma", 0) == 0 ? 2 : 0) |
                  (d.add_bos ? 4 : 0) | (d.add_space_prefix ? 8 : 0) |
                  (d.pre == "smollm" ? 16 : 0) | (d.add_eos ? 32 : 0);
  auto id = [](int32_t v) { return static_cast<char>(v >= 0 && v < int32_t(kTokens) ? v : -1); };
  std::string s;
  s += static_cast<char>(flags);
  s += id(d.bos);
  s += id(d.eos);
  s += id(d.unk);
  s += id(d.pad);
  for (size_t i = 0; i < kTokens && i < d.tokens.size(); ++i) {
    if (d.tokens[i].find('\n') != std::string::npos) continue;
    s += static_cast<char>('0' + (d.token_types.empty() ? 1 : d.token_types[i]));
    s += d.tokens[i] + "\n";
  }
  s += "%%\n";
  for (size_t i = 0; i < kMerges && i < d.merges.size(); ++i) s += d.merges[i] + "\n";
  s += "%%\nThe capital of France is Paris.  12345 <|im_start|>user\n\xC3\xA9t\xC3\xA9 "
       "\xF0\x9F\x98\x80";
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: make_seeds MODEL.gguf GGUF_OUT TOK_OUT\n");
    return 2;
  }
  try {
    const core::model::GgufFile f(argv[1]);
    const GgufEdit e = shrink(f);
    std::ofstream(argv[2], std::ios::binary) << e.header() << std::string(e.data_bytes, '\0');
    const core::model::GgufFile check(argv[2]);
    (void)core::model::read_config(check);
    (void)core::model::load_tokenizer(check);
    std::ofstream(argv[3], std::ios::binary) << tokenizer_seed(f);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "make_seeds: %s\n", ex.what());
    return 1;
  }
  return 0;
}
