// Flags shared by the model subcommands (generate, dump, ppl): which model, how many threads,
// and the attention variant (window override, kv-head pooling, cache mode, chunked prefill).
//
//   ModelFlags mf;
//   for (int i = 1; i < argc; ++i)
//     if (!parse_model_flag(argc, argv, i, mf)) { ...own flags... }
//   check_variant(mf.variant, config);  // after the model's config is known
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "core/model/config.h"
#include "core/scene/scene.h"

namespace core::cli {

// A bad flag or value; the subcommand prints it and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ModelFlags {
  std::string model = "smollm2";  // GGUF path, or "smollm2" / "gemma3"
  int threads = 0;                // 0 = all cores
  ModelVariant variant;
  bool convention_set = false;  // --window-convention given (needs --window)
  bool block_set = false;       // --block given (needs --cache paged)
};

// Checks --segments against the prompt: the lengths must sum to its token count. Throws
// UsageError giving both numbers. Does nothing without --segments.
void check_segments(const ModelVariant& v, int n_tokens);
// Throws UsageError when --segments was given to a subcommand that does not pack prompts.
void reject_segments(const ModelVariant& v, const char* cmd);

// The usage lines of the shared flags, for each subcommand's help text (the --model line lists
// the catalog's names).
std::string model_flags_usage();
// The lines after --window-convention: the other variant flags.
extern const char* const kVariantFlagsUsage;

// If argv[i] is a shared flag, reads it (and its value, advancing i) into `f` and returns true.
// Accepts both "--flag V" and "--flag=V". Throws UsageError for a missing or malformed value.
bool parse_model_flag(int argc, char** argv, int& i, ModelFlags& f);

// Reads a value flag of a subcommand ("--name V" or "--name=V"); returns false when argv[i] is
// not `name`. Throws UsageError when the value is missing.
bool take_value(int argc, char** argv, int& i, const char* name, std::string* value);
int parse_int(const std::string& flag, const std::string& text, int lo, int hi);
// "0,3,5" -> {0, 3, 5}; each in [lo, hi]. Throws UsageError naming the flag.
std::vector<int> parse_int_list(const std::string& flag, const std::string& text, int lo, int hi);

// Checks the variant against the model: window layers and kv-heads in range, rolling only with a
// window. Throws UsageError with a message that names the flag and the model's numbers.
void check_variant(const ModelFlags& f, const model::Config& c);

// A one-line summary of the variant as it applies to this model ("window 16 (including_self)
// on all layers, 3 kv heads, cache full, one-shot prefill").
std::string describe_variant(const ModelVariant& v, const model::Config& c);

}  // namespace core::cli
