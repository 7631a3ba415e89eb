// libFuzzer target: a fuzzed vocabulary (tokens, types, merges, special ids; format in
// tokenizer_input.h) -> Tokenizer::from_data -> encode the fuzzed text -> decode, token_text
// and token_label of every id. Construction may refuse (std::runtime_error); once built,
// encode must give ids inside the vocabulary and decode must give valid UTF-8.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/model/tokenizer.h"
#include "tests/fuzz/tokenizer_input.h"

namespace {

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (int k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::TokenizerInput in =
      fuzz::parse_tokenizer_input({reinterpret_cast<const char*>(data), size});
  if (in.data.tokens.size() > 4096) return 0;
  const std::string text = in.text;
  core::model::Tokenizer tok;
  try {
    tok = core::model::Tokenizer::from_data(std::move(in.data));
  } catch (const std::runtime_error&) {
    return 0;
  }
  for (bool special : {true, false}) {
    const std::vector<int32_t> ids = tok.encode(text, special);
    for (int32_t id : ids)
      if (id < 0 || id >= tok.vocab_size()) __builtin_trap();
    if (!valid_utf8(tok.decode(ids))) __builtin_trap();
  }
  for (int32_t id = -1; id <= tok.vocab_size(); ++id) {
    if (!valid_utf8(tok.token_text(id))) __builtin_trap();
    (void)tok.token_label(id);
  }
  return 0;
}
