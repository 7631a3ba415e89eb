// The fuzz_tokenizer input format, shared with the seed maker (tests/fuzz/make_seeds.cpp):
//   byte 0  flags: 1 "llama" (else "gpt2"), 2 arch "gemma3", 4 add_bos, 8 add_space_prefix,
//           16 pre "smollm" (digits split), 32 add_eos
//   bytes 1..4  bos, eos, unk, pad as signed bytes (-1 = none; others may be out of range)
//   then lines: "<type digit><token>" until a line "%%", merges until "%%", the rest is text.
// A token's score is minus its index (SentencePiece merges the best-scoring result first).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/model/tokenizer.h"

namespace fuzz {

struct TokenizerInput {
  core::model::TokenizerData data;
  std::string text;
};

inline TokenizerInput parse_tokenizer_input(std::string_view in) {
  TokenizerInput r;
  if (in.size() < 5) return r;
  const auto flags = static_cast<uint8_t>(in[0]);
  auto& d = r.data;
  d.model = flags & 1 ? "llama" : "gpt2";
  d.arch = flags & 2 ? "gemma3" : "llama";
  d.add_bos = flags & 4;
  d.add_space_prefix = flags & 8;
  d.pre = flags & 16 ? "smollm" : "default";
  d.add_eos = flags & 32;
  d.bos = static_cast<int8_t>(in[1]);
  d.eos = static_cast<int8_t>(in[2]);
  d.unk = static_cast<int8_t>(in[3]);
  d.pad = static_cast<int8_t>(in[4]);
  size_t pos = 5;
  int section = 0;  // 0 tokens, 1 merges
  while (pos < in.size() && section < 2) {
    size_t nl = in.find('\n', pos);
    if (nl == std::string_view::npos) nl = in.size();
    const std::string_view line = in.substr(pos, nl - pos);
    pos = nl + 1;
    if (line == "%%") {
      ++section;
    } else if (section == 0 && !line.empty()) {
      d.token_types.push_back(line[0] - '0');
      d.tokens.emplace_back(line.substr(1));
      d.scores.push_back(-static_cast<float>(d.tokens.size()));
    } else if (section == 1) {
      d.merges.emplace_back(line);
    }
  }
  if (pos < in.size()) r.text = std::string(in.substr(pos));
  return r;
}

}  // namespace fuzz
