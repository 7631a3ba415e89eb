// The split rule of byte-level BPE tokenizers, written by hand because std::regex cannot
// express \p{L} or \p{N}. It matches the GPT-2 pattern that Hugging Face's ByteLevel
// pre-tokenizer uses:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
#pragma once

#include <string_view>
#include <vector>

namespace core::model {

// Appends the chunks of text to out; together they cover text exactly, in order. With
// split_digits every \p{N} character first becomes a chunk of its own (SmolLM2's own
// tokenizer.json and llama.cpp's "smollm" rule), and the pattern runs on the pieces between.
void split_gpt2(std::string_view text, bool split_digits, std::vector<std::string_view>& out);

}  // namespace core::model
