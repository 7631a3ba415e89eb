#include "core/model/pretokenize.h"

#include <cstdint>

#include "core/model/unicode_ranges.h"

namespace core::model {
namespace {

enum class CharClass : uint8_t { Letter, Number, Space, Other };

struct Char {
  uint32_t offset;  // byte offset in the text
  uint32_t cp;
  CharClass cls;
};

CharClass classify(uint32_t cp) {
  if (unicode::is_whitespace(cp)) return CharClass::Space;
  if (unicode::is_letter(cp)) return CharClass::Letter;
  if (unicode::is_number(cp)) return CharClass::Number;
  return CharClass::Other;
}

// End (exclusive, in chars) of the pattern's match starting at chars[i]; chars[e] is the
// end of the piece, which the (?!\S) look-ahead treats as "not non-space".
size_t match_at(const std::vector<Char>& chars, size_t i, size_t e) {
  const uint32_t c = chars[i].cp;
  if (c == '\'' && i + 1 < e) {
    const uint32_t n1 = chars[i + 1].cp;
    if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') return i + 2;
    if (i + 2 < e) {
      const uint32_t n2 = chars[i + 2].cp;
      if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
        return i + 3;
      }
    }
  }
  // " ?X+" for the three non-space classes: one leading U+0020 joins the run after it.
  size_t k = (c == ' ' && i + 1 < e && chars[i + 1].cls != CharClass::Space) ? i + 1 : i;
  const CharClass cls = chars[k].cls;
  if (cls != CharClass::Space) {
    while (k < e && chars[k].cls == cls) ++k;
    return k;
  }
  size_t j = i;
  while (j < e && chars[j].cls == CharClass::Space) ++j;
  // \s+(?!\S) gives back the last space so that it can lead the next word; \s+ takes the
  // whole run when it is a single space.
  if (j < e && j - 1 > i) return j - 1;
  return j;
}

void split_piece(std::string_view text, const std::vector<Char>& chars, size_t b, size_t e,
                 std::vector<std::string_view>& out) {
  auto offset = [&](size_t k) { return k < chars.size() ? chars[k].offset : text.size(); };
  for (size_t i = b; i < e;) {
    const size_t j = match_at(chars, i, e);
    out.push_back(text.substr(offset(i), offset(j) - offset(i)));
    i = j;
  }
}

}  // namespace

void split_gpt2(std::string_view text, bool split_digits, std::vector<std::string_view>& out) {
  std::vector<Char> chars;
  chars.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const auto ch = unicode::next_char(text, pos);
    chars.push_back({static_cast<uint32_t>(pos), ch.cp, classify(ch.cp)});
    pos += ch.len;
  }
  if (!split_digits) {
    split_piece(text, chars, 0, chars.size(), out);
    return;
  }
  size_t begin = 0;
  for (size_t i = 0; i < chars.size(); ++i) {
    if (chars[i].cls != CharClass::Number) continue;
    split_piece(text, chars, begin, i, out);
    split_piece(text, chars, i, i + 1, out);
    begin = i + 1;
  }
  split_piece(text, chars, begin, chars.size(), out);
}

}  // namespace core::model
