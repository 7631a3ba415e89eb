// Opening a model for the model subcommands, and their common error handling: every bad
// input (flag, model file, text file) becomes a message naming it and exit code 2.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/cli/variant_flags.h"
#include "core/model/forward.h"
#include "core/model/tokenizer.h"

namespace core::cli {

struct OpenModel {
  std::shared_ptr<const model::Model> model;
  model::Tokenizer tokenizer;
};

// Resolves --model, checks the variant against the file's config before the (slower) weight
// load, then loads weights and tokenizer. Throws UsageError or ModelError.
OpenModel open_model(const ModelFlags& f);

// Session options for the flags: the variant, the threads, no attention capture.
model::RunOptions run_options(const ModelFlags& f);

// How many positions to prefill per call when every position's logits are wanted: all n when
// their logits fit in 256 MB, else a multiple of the variant's chunk (so chunk boundaries stay
// where --chunk puts them) that fits.
int logits_piece(const ModelVariant& v, int vocab, int n);

// Prints `usage` and the shared flags for --help / -h (exit 0); otherwise runs `body`, mapping
// UsageError, ModelError, IoError and std::invalid_argument to a message on stderr prefixed by
// "attnlab <cmd>: " and exit 2 (plus the usage for UsageError), anything else to exit 1.
int guard_command(const char* cmd, const char* usage, int argc, char** argv,
                  const std::function<int()>& body);

}  // namespace core::cli
