// Tokenizers rebuilt from GGUF metadata (tokenizer.ggml.*), with no other files:
//   "gpt2"  byte-level BPE with ranked merges (SmolLM2),
//   "llama" SentencePiece-style BPE that merges by token score, with <0xXX> byte fallback (Gemma).
// Control and user-defined tokens are cut out of the text whole before either algorithm runs.
// Reference behaviour: Hugging Face transformers building its tokenizer from the same GGUF
// (tests/golden/make_tokenizer_golden.py).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace core::model {

// Plain data so that the tokenizer does not depend on the GGUF reader. Field <- GGUF key:
struct TokenizerData {
  std::string model;                 // tokenizer.ggml.model: "gpt2" or "llama"
  std::string pre;                   // tokenizer.ggml.pre: split rule for "gpt2" ("smollm", "gpt2")
  std::string arch;                  // general.architecture: "gemma*" selects Gemma's quirks
  std::vector<std::string> tokens;   // tokenizer.ggml.tokens
  std::vector<float> scores;         // tokenizer.ggml.scores ("llama"; may be empty for "gpt2")
  std::vector<int32_t> token_types;  // tokenizer.ggml.token_type (TokenType values)
  std::vector<std::string> merges;   // tokenizer.ggml.merges ("gpt2": "left right" per line)
  int32_t bos = -1;                  // tokenizer.ggml.bos_token_id
  int32_t eos = -1;                  // tokenizer.ggml.eos_token_id
  int32_t unk = -1;                  // tokenizer.ggml.unknown_token_id
  int32_t pad = -1;                  // tokenizer.ggml.padding_token_id
  bool add_bos = false;              // tokenizer.ggml.add_bos_token
  bool add_eos = false;              // tokenizer.ggml.add_eos_token
  bool add_space_prefix = false;     // tokenizer.ggml.add_space_prefix
};

// llama.cpp's token types, as stored in tokenizer.ggml.token_type.
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6
};

// True for the values above (0..6).
bool is_token_type(int32_t t);
// The byte a byte-fallback token stands for: "<0x41>" -> 65; -1 unless the token is exactly
// "<0x" + two hex digits + ">".
int parse_byte_token(std::string_view tok);

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

class Tokenizer {
 public:
  // Throws std::runtime_error naming the problem when the data is inconsistent.
  static Tokenizer from_data(TokenizerData data);

  // add_special adds BOS/EOS as the model asks (add_bos/add_eos). Control and user-defined
  // token strings in the text (e.g. "<|im_start|>") always become their single token.
  std::vector<int32_t> encode(std::string_view text, bool add_special = true) const;
  std::string decode(const std::vector<int32_t>& ids) const;

  // The text one token contributes, as valid UTF-8: bytes of a partial character show as
  // <0xXX>. token_label additionally makes whitespace visible (␣ ↵ ⇥) for UI labels.
  std::string token_text(int32_t id) const;
  std::string token_label(int32_t id) const;

  int32_t vocab_size() const { return static_cast<int32_t>(decoded_.size()); }
  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  bool is_special(int32_t id) const;  // control or user-defined

 private:
  enum class Kind { ByteBpe, SentencePiece };
  struct SplitTrie {
    std::unordered_map<uint64_t, int32_t> edges;  // (node << 8 | byte) -> child node
    std::vector<int32_t> token;                   // per node: token id ending here, or -1
  };

  void encode_segment(std::string_view text, bool at_start, std::vector<int32_t>& out) const;
  void encode_byte_bpe(std::string_view chunk, std::vector<int32_t>& out) const;
  void encode_sentencepiece(std::string_view text, bool at_start, std::vector<int32_t>& out) const;
  // Length and id of the longest special token starting at text[pos]; {0, -1} if none.
  std::pair<size_t, int32_t> match_special(std::string_view text, size_t pos) const;

  Kind kind_ = Kind::ByteBpe;
  bool split_digits_ = false;
  bool add_bos_ = false, add_eos_ = false, add_space_prefix_ = false;
  int32_t bos_ = -1, eos_ = -1, unk_ = -1;
  std::vector<std::string> decoded_;  // bytes each token adds to decode()
  std::vector<int32_t> types_;        // TokenType per id
  TokenMap vocab_;             // merge-space spelling -> id (raw bytes for gpt2, ▁ for llama)
  std::vector<int32_t> rank_;  // llama: merge priority of the token as a merge result
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>>
      pair_merges_;                      // gpt2: (l,r) -> rank, id
  std::array<int32_t, 256> byte_ids_{};  // token of each single byte (gpt2) or <0xXX> (llama)
  SplitTrie specials_;
};

}  // namespace core::model
