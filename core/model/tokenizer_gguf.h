// Fills TokenizerData from a GGUF file's tokenizer.ggml.* metadata.
#pragma once

#include "core/model/gguf.h"
#include "core/model/tokenizer.h"

namespace core::model {

// Throws ModelError naming the file and key when a required key is missing or mistyped.
TokenizerData tokenizer_data_from_gguf(const GgufFile& f);
// The same, built; a bad vocabulary is reported as ModelError naming the file.
Tokenizer load_tokenizer(const GgufFile& f);

}  // namespace core::model
