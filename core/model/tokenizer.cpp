#include "core/model/tokenizer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "core/model/bpe_merge.h"
#include "core/model/pretokenize.h"
#include "core/model/unicode_ranges.h"

namespace core::model {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 "▁", SentencePiece's space

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("tokenizer: " + what);
}

// GPT-2 stores each byte as a printable code point so that vocab and merges are plain text:
// printable Latin-1 bytes stand for themselves, the other 68 take code points from U+0100 on.
std::array<uint32_t, 256> byte_to_codepoint() {
  std::array<uint32_t, 256> map{};
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    map[b] = printable ? b : next++;
  }
  return map;
}

// The raw bytes a GPT-2 spelled token stands for; false if it uses a code point outside
// the byte alphabet (then the token is taken literally, as Hugging Face does).
bool unspell_gpt2(std::string_view token, const std::unordered_map<uint32_t, uint8_t>& to_byte,
                  std::string& bytes) {
  bytes.clear();
  for (size_t pos = 0; pos < token.size();) {
    const auto ch = unicode::next_char(token, pos);
    const auto it = to_byte.find(ch.cp);
    if (it == to_byte.end()) return false;
    bytes += static_cast<char>(it->second);
    pos += ch.len;
  }
  return true;
}

bool is_space_run(std::string_view t) {
  return t.find(' ') != std::string_view::npos && std::all_of(t.begin(), t.end(), [](char c) {
           return unicode::is_whitespace(static_cast<unsigned char>(c));
         });
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool is_token_type(int32_t t) {
  return t >= static_cast<int32_t>(TokenType::Undefined) &&
         t <= static_cast<int32_t>(TokenType::Byte);
}

int parse_byte_token(std::string_view tok) {
  if (tok.size() != 6 || !tok.starts_with("<0x") || tok[5] != '>') return -1;
  const int hi = hex_digit(tok[3]), lo = hex_digit(tok[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

Tokenizer Tokenizer::from_data(TokenizerData d) {
  Tokenizer t;
  const size_t n = d.tokens.size();
  if (n == 0) fail("tokenizer.ggml.tokens is empty");
  if (n > static_cast<size_t>(INT32_MAX)) fail("too many tokens");
  if (!d.token_types.empty() && d.token_types.size() != n) {
    fail("token_type has " + std::to_string(d.token_types.size()) + " entries for " +
         std::to_string(n) + " tokens");
  }
  if (!d.scores.empty() && d.scores.size() != n) {
    fail("scores has " + std::to_string(d.scores.size()) + " entries for " + std::to_string(n) +
         " tokens");
  }
  auto check_id = [&](int32_t id, const char* key) {
    if (id < -1 || id >= static_cast<int32_t>(n)) {
      fail(std::string(key) + " = " + std::to_string(id) + " is out of range");
    }
  };
  check_id(d.bos, "bos_token_id");
  check_id(d.eos, "eos_token_id");
  check_id(d.unk, "unknown_token_id");
  check_id(d.pad, "padding_token_id");
  for (size_t i = 0; i < d.token_types.size(); ++i)
    if (!is_token_type(d.token_types[i]))
      fail("token_type[" + std::to_string(i) + "] = " + std::to_string(d.token_types[i]) +
           " is not a token type (0..6)");
  for (size_t i = 0; i < d.scores.size(); ++i)
    if (!std::isfinite(d.scores[i])) fail("scores[" + std::to_string(i) + "] is not finite");

  if (d.model == "gpt2") {
    t.kind_ = Kind::ByteBpe;
  } else if (d.model == "llama") {
    t.kind_ = Kind::SentencePiece;
  } else {
    fail("unsupported tokenizer.ggml.model '" + d.model + "' (supported: gpt2, llama)");
  }
  // llama.cpp's table: these vocabularies were trained with every digit split off alone.
  static const char* const kDigitSplitters[] = {"smollm",    "starcoder", "refact", "command-r",
                                                "codeshell", "exaone",    "minerva"};
  t.split_digits_ = std::find(std::begin(kDigitSplitters), std::end(kDigitSplitters), d.pre) !=
                    std::end(kDigitSplitters);
  const bool gemma = d.arch.rfind("gemma", 0) == 0;
  t.add_bos_ = d.add_bos;
  t.add_eos_ = d.add_eos;
  t.add_space_prefix_ = d.add_space_prefix;
  t.bos_ = d.bos;
  t.eos_ = d.eos;
  t.unk_ = d.unk;
  t.types_ = d.token_types.empty() ? std::vector<int32_t>(n, int32_t(TokenType::Normal))
                                   : std::move(d.token_types);
  t.decoded_.resize(n);
  t.byte_ids_.fill(-1);
  t.vocab_.reserve(n);
  std::vector<bool> in_split(n, false);  // matched whole in the raw text

  if (t.kind_ == Kind::ByteBpe) {
    const auto spell = byte_to_codepoint();
    std::unordered_map<uint32_t, uint8_t> to_byte;
    for (uint32_t b = 0; b < 256; ++b) to_byte[spell[b]] = static_cast<uint8_t>(b);
    std::string bytes;
    for (size_t id = 0; id < n; ++id) {
      const std::string& tok = d.tokens[id];
      const auto type = static_cast<TokenType>(t.types_[id]);
      const bool spelled = unspell_gpt2(tok, to_byte, bytes);
      const bool special = type == TokenType::Control || type == TokenType::UserDefined;
      t.decoded_[id] = (spelled && !special) ? bytes : tok;
      // A control token outside the byte alphabet is a conversion mislabel; HF skips it too.
      in_split[id] = special && !tok.empty() && (spelled || type == TokenType::UserDefined);
      t.vocab_.emplace(tok, static_cast<int32_t>(id));
    }
    for (uint32_t b = 0; b < 256; ++b) {
      std::string one;
      unicode::append_utf8(one, spell[b]);
      if (auto it = t.vocab_.find(one); it != t.vocab_.end()) t.byte_ids_[b] = it->second;
    }
    t.pair_merges_.reserve(d.merges.size());
    for (size_t rank = 0; rank < d.merges.size(); ++rank) {
      const std::string& m = d.merges[rank];
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) fail("merge " + std::to_string(rank) + " has no space: " + m);
      const std::string_view l(m.data(), sp), r(m.data() + sp + 1, m.size() - sp - 1);
      const auto il = t.vocab_.find(l), ir = t.vocab_.find(r);
      const auto im = t.vocab_.find(std::string(l) + std::string(r));
      if (il == t.vocab_.end() || ir == t.vocab_.end() || im == t.vocab_.end()) continue;
      const uint64_t key = (uint64_t(uint32_t(il->second)) << 32) | uint32_t(ir->second);
      t.pair_merges_.emplace(key, std::make_pair(static_cast<int32_t>(rank), im->second));
    }
  } else {
    for (size_t id = 0; id < n; ++id) {
      std::string tok = std::move(d.tokens[id]);
      const auto type = static_cast<TokenType>(t.types_[id]);
      const bool special = type == TokenType::Control || type == TokenType::UserDefined;
      // Gemma files store the multi-space tokens with real spaces; HF respells them "▁▁..."
      // and lets BPE build them, which differs from whole matching on runs over 31 spaces.
      const bool respell = gemma && is_space_run(tok);
      if (respell) {
        std::string s;
        for (size_t k = 0; k < tok.size(); ++k) s += kSpaceMark;
        tok = std::move(s);
      }
      in_split[id] = special && !respell && !tok.empty();
      if (type == TokenType::Byte) {
        const int b = parse_byte_token(tok);
        if (b < 0)
          fail("tokens[" + std::to_string(id) + "] = '" + tok +
               "' has token type byte but is not <0x00>..<0xFF>");
        if (t.byte_ids_[b] >= 0)
          fail("tokens[" + std::to_string(id) + "] = '" + tok + "' repeats byte token " +
               std::to_string(t.byte_ids_[b]));
        t.byte_ids_[b] = static_cast<int32_t>(id);
        t.decoded_[id] = std::string(1, static_cast<char>(b));
      } else if (special && !respell) {
        t.decoded_[id] = tok;
      } else {
        std::string& out = t.decoded_[id];
        for (size_t pos = 0; pos < tok.size();) {
          if (std::string_view(tok).substr(pos, 3) == kSpaceMark) {
            out += ' ';
            pos += 3;
          } else {
            out += tok[pos++];
          }
        }
      }
      t.vocab_.emplace(std::move(tok), static_cast<int32_t>(id));
    }
    // SentencePiece merges the pair whose result scores best. Gemma's scores do not follow
    // its merge order (its -1000 placeholders), so HF ranks Gemma merges by token id instead.
    t.rank_.resize(n);
    if (gemma || d.scores.empty()) {
      std::iota(t.rank_.begin(), t.rank_.end(), 0);
    } else {
      std::vector<int32_t> order(n);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int32_t a, int32_t b) { return d.scores[a] > d.scores[b]; });
      for (size_t k = 0; k < n; ++k) t.rank_[order[k]] = static_cast<int32_t>(k);
    }
  }

  t.specials_.token.push_back(-1);
  for (size_t id = 0; id < n; ++id) {
    if (!in_split[id]) continue;
    const std::string& s = t.decoded_[id];
    int32_t node = 0;
    for (unsigned char c : s) {
      const uint64_t key = (uint64_t(uint32_t(node)) << 8) | c;
      auto it = t.specials_.edges.find(key);
      if (it == t.specials_.edges.end()) {
        it = t.specials_.edges.emplace(key, static_cast<int32_t>(t.specials_.token.size())).first;
        t.specials_.token.push_back(-1);
      }
      node = it->second;
    }
    if (t.specials_.token[node] < 0) t.specials_.token[node] = static_cast<int32_t>(id);
  }
  return t;
}

std::pair<size_t, int32_t> Tokenizer::match_special(std::string_view text, size_t pos) const {
  std::pair<size_t, int32_t> best{0, -1};
  int32_t node = 0;
  for (size_t k = pos; k < text.size(); ++k) {
    const uint64_t key = (uint64_t(uint32_t(node)) << 8) | static_cast<unsigned char>(text[k]);
    const auto it = specials_.edges.find(key);
    if (it == specials_.edges.end()) break;
    node = it->second;
    if (specials_.token[node] >= 0) best = {k + 1 - pos, specials_.token[node]};
  }
  return best;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (add_special && add_bos_ && bos_ >= 0) out.push_back(bos_);
  // Leftmost-longest special match, as Hugging Face's added-token splitter does.
  size_t seg = 0;
  for (size_t i = 0; i < text.size();) {
    const auto [len, id] = match_special(text, i);
    if (len == 0) {
      ++i;
      continue;
    }
    encode_segment(text.substr(seg, i - seg), seg == 0, out);
    out.push_back(id);
    i += len;
    seg = i;
  }
  encode_segment(text.substr(seg), seg == 0, out);
  if (add_special && add_eos_ && eos_ >= 0) out.push_back(eos_);
  return out;
}

void Tokenizer::encode_segment(std::string_view text, bool at_start,
                               std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (kind_ == Kind::SentencePiece) {
    encode_sentencepiece(text, at_start, out);
    return;
  }
  std::vector<std::string_view> chunks;
  split_gpt2(text, split_digits_, chunks);
  for (std::string_view c : chunks) encode_byte_bpe(c, out);
}

void Tokenizer::encode_byte_bpe(std::string_view chunk, std::vector<int32_t>& out) const {
  std::vector<MergeSymbol> syms(chunk.size());
  for (size_t i = 0; i < chunk.size(); ++i) {
    const int32_t id = byte_ids_[static_cast<unsigned char>(chunk[i])];
    syms[i] = {id >= 0 ? id : unk_, static_cast<uint32_t>(i), 1, int32_t(i) - 1,
               i + 1 < chunk.size() ? int32_t(i) + 1 : -1};
  }
  bpe_merge(syms, [this](const MergeSymbol& l, const MergeSymbol& r, int32_t& rank, int32_t& id) {
    if (l.id < 0 || r.id < 0) return false;
    const auto it = pair_merges_.find((uint64_t(uint32_t(l.id)) << 32) | uint32_t(r.id));
    if (it == pair_merges_.end()) return false;
    rank = it->second.first;
    id = it->second.second;
    return true;
  });
  for (const MergeSymbol& s : syms) {
    if (s.len > 0 && s.id >= 0) out.push_back(s.id);
  }
}

void Tokenizer::encode_sentencepiece(std::string_view text, bool at_start,
                                     std::vector<int32_t>& out) const {
  std::string norm;
  norm.reserve(text.size() + text.size() / 2 + 3);
  if (add_space_prefix_ && at_start) norm += kSpaceMark;
  for (char c : text) {
    if (c == ' ') {
      norm += kSpaceMark;
    } else {
      norm += c;
    }
  }
  std::vector<MergeSymbol> syms;
  syms.reserve(norm.size());
  for (size_t pos = 0; pos < norm.size();) {
    const size_t len = unicode::next_char(norm, pos).len;
    const auto it = vocab_.find(std::string_view(norm).substr(pos, len));
    const int32_t i = static_cast<int32_t>(syms.size());
    syms.push_back({it != vocab_.end() ? it->second : -1, static_cast<uint32_t>(pos),
                    static_cast<uint32_t>(len), i - 1, -1});
    if (i > 0) syms[i - 1].next = i;
    pos += len;
  }
  const std::string_view nv(norm);
  bpe_merge(syms, [&](const MergeSymbol& l, const MergeSymbol& r, int32_t& rank, int32_t& id) {
    if (l.id < 0 || r.id < 0) return false;  // HF only builds merges out of vocab pieces
    const auto it = vocab_.find(nv.substr(l.start, l.len + r.len));
    if (it == vocab_.end()) return false;
    id = it->second;
    rank = rank_[id];
    return true;
  });
  for (const MergeSymbol& s : syms) {
    if (s.len == 0) continue;
    if (s.id >= 0) {
      out.push_back(s.id);
      continue;
    }
    for (size_t k = 0; k < s.len; ++k) {  // byte fallback: <0xXX> per byte of the character
      const int32_t b = byte_ids_[static_cast<unsigned char>(norm[s.start + k])];
      if (b >= 0 || unk_ >= 0) out.push_back(b >= 0 ? b : unk_);  // no id at all: dropped
    }
  }
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (id >= 0 && id < vocab_size()) bytes += decoded_[id];
  }
  return unicode::utf8_lossy(bytes);
}

bool Tokenizer::is_special(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return false;
  const auto type = static_cast<TokenType>(types_[id]);
  return type == TokenType::Control || type == TokenType::UserDefined;
}

std::string Tokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return "<?" + std::to_string(id) + ">";
  const std::string& s = decoded_[id];
  std::string out;
  for (size_t pos = 0; pos < s.size();) {
    const auto ch = unicode::next_char(s, pos);
    if (ch.cp == 0xFFFD && ch.len == 1) {
      static const char* const kHex = "0123456789ABCDEF";
      const auto b = static_cast<unsigned char>(s[pos]);
      out += "<0x";
      out += kHex[b >> 4];
      out += kHex[b & 15];
      out += '>';
    } else {
      out.append(s, pos, ch.len);
    }
    pos += ch.len;
  }
  return out;
}

std::string Tokenizer::token_label(int32_t id) const {
  std::string out;
  for (char c : token_text(id)) {
    switch (c) {
      case ' ':
        out += "\xE2\x90\xA3";
        break;  // ␣
      case '\n':
        out += "\xE2\x86\xB5";
        break;  // ↵
      case '\t':
        out += "\xE2\x87\xA5";
        break;  // ⇥
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace core::model
