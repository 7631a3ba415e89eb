// What a model file's metadata means, checked against itself before any weight is read:
// every tensor the config implies exists with the shape the config gives and a type we can
// decode, no tensor belongs to a layer the config does not have, the RoPE and value sizes
// agree with the head size, and the tokenizer metadata (tokens = embedding rows, token types,
// scores, byte tokens, special ids) fits the vocabulary. Each message names the file and key.
#pragma once

#include "core/model/config.h"
#include "core/model/gguf.h"

namespace core::model {

// Throws ModelError("<path>: <key or tensor>: <problem>") on the first defect.
void validate_model(const GgufFile& f, const Config& c);

}  // namespace core::model
