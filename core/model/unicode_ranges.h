// Just enough Unicode for tokenizers: UTF-8 decoding and the \p{L}, \p{N}, \s classes that
// the GPT-2 style split pattern uses (std::regex has no Unicode classes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace core::model::unicode {

bool is_letter(uint32_t cp);      // \p{L}
bool is_number(uint32_t cp);      // \p{N}
bool is_whitespace(uint32_t cp);  // \s as Oniguruma reads it: the White_Space property

// Length in bytes of the UTF-8 sequence that starts with lead byte c; 1 for a stray byte,
// so malformed input still advances and every byte ends up in some token.
size_t utf8_len(unsigned char c);

struct Utf8Char {
  uint32_t cp;  // 0xFFFD when the bytes at pos are malformed
  size_t len;   // bytes consumed; 1 when malformed, so that every byte is kept
};
Utf8Char next_char(std::string_view s, size_t pos);

void append_utf8(std::string& out, uint32_t cp);

// Replaces each malformed stretch by U+FFFD, the way Rust's from_utf8_lossy does, so that
// decoding a partial multi-byte token gives the same text as Hugging Face.
std::string utf8_lossy(std::string_view s);

}  // namespace core::model::unicode
