// `attnlab generate --model M --prompt P -n K [variant flags]`: greedy decoding. Prints the
// prompt and its continuation as they come, then prefill and decode speed separately and the
// bytes the KV cache really allocated.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "core/attention/backend.h"
#include "core/cli/commands.h"
#include "core/cli/model_open.h"

namespace core::cli {
namespace {

constexpr const char* kUsage =
    "usage: attnlab generate --prompt P [-n K] [--ignore-eos] [model and variant flags]\n"
    "  --prompt P                text to continue\n"
    "  -n K                      tokens to generate (default 32)\n"
    "  --ignore-eos              keep going past the end-of-sequence token\n"
    "  --segments N,N,..         pack prompts (see below); generation continues the last one\n";

int32_t argmax(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Prints what `text` adds beyond the `printed` bytes already shown. A character split across
// tokens decodes as U+FFFD until its last byte arrives, so a trailing U+FFFD waits unless final.
void print_new_text(const std::string& text, size_t& printed, bool final) {
  static constexpr char kReplacement[] = "\xEF\xBF\xBD";
  size_t end = text.size();
  while (!final && end >= printed + 3 && text.compare(end - 3, 3, kReplacement) == 0) end -= 3;
  if (end > printed) {
    std::fwrite(text.data() + printed, 1, end - printed, stdout);
    std::fflush(stdout);
    printed = end;
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int generate(int argc, char** argv) {
  ModelFlags mf;
  std::string prompt, v;
  bool have_prompt = false, ignore_eos = false;
  int n_new = 32;
  for (int i = 1; i < argc; ++i) {
    if (parse_model_flag(argc, argv, i, mf)) continue;
    if (take_value(argc, argv, i, "--prompt", &prompt)) {
      have_prompt = true;
    } else if (take_value(argc, argv, i, "-n", &v)) {
      n_new = parse_int("-n", v, 1, 1 << 20);
    } else if (std::string(argv[i]) == "--ignore-eos") {
      ignore_eos = true;
    } else {
      throw UsageError(std::string("unknown argument '") + argv[i] + "'");
    }
  }
  if (!have_prompt) throw UsageError("--prompt P is required");

  OpenModel om = open_model(mf);
  const model::Config& c = om.model->config();
  const std::vector<int32_t> ids = om.tokenizer.encode(prompt, true);
  if (ids.empty()) throw UsageError("--prompt encodes to no tokens");
  check_segments(mf.variant, static_cast<int>(ids.size()));
  if (static_cast<int>(ids.size()) + n_new > c.context_length)
    throw UsageError("prompt (" + std::to_string(ids.size()) + " tokens) plus -n " +
                     std::to_string(n_new) + " exceeds the model's context of " +
                     std::to_string(c.context_length));

  model::Session s(om.model, run_options(mf));
  std::printf("%s", prompt.c_str());
  std::fflush(stdout);

  auto t0 = std::chrono::steady_clock::now();
  std::vector<float> logits = s.prefill(ids);
  const double prefill_s = seconds_since(t0);

  std::vector<int32_t> out;
  size_t printed = 0;
  int decode_steps = 0;
  double decode_s = 0;
  bool stopped_at_eos = false;
  while (true) {
    const int32_t next = argmax(logits);
    if (next == om.tokenizer.eos() && !ignore_eos) {
      stopped_at_eos = true;
      break;
    }
    out.push_back(next);
    print_new_text(om.tokenizer.decode(out), printed, false);
    if (static_cast<int>(out.size()) == n_new) break;
    const auto ts = std::chrono::steady_clock::now();
    logits = s.decode(next);
    decode_s += seconds_since(ts);
    ++decode_steps;
  }

  print_new_text(om.tokenizer.decode(out), printed, true);

  const model::Capture& cap = s.capture();
  size_t pass_bytes = 0;  // what the cache buffers held during the last pass
  for (const model::CacheCapture& cc : cap.cache) pass_bytes += cc.bytes;
  std::printf("\n\n");
  std::printf("model: %s (%s, %d layers, %d heads, %d kv heads)\n", om.model->path().c_str(),
              model::arch_name(c.arch), c.n_layers, c.n_heads, c.n_kv_heads);
  std::printf("variant: %s\n", describe_variant(mf.variant, c).c_str());
  std::printf("%s\n", default_backend_description().c_str());
  std::printf("tokens: %zu prompt, %zu generated%s\n", ids.size(), out.size(),
              stopped_at_eos ? " (stopped at end-of-sequence)" : "");
  std::printf("prefill: %zu tokens in %.3f s = %.1f tok/s\n", ids.size(), prefill_s,
              static_cast<double>(ids.size()) / std::max(prefill_s, 1e-9));
  if (decode_steps > 0)
    std::printf("decode: %d tokens in %.3f s = %.1f tok/s\n", decode_steps, decode_s,
                decode_steps / std::max(decode_s, 1e-9));
  else
    std::printf("decode: 0 tokens (the first token comes from the prefill)\n");
  if (mf.variant.cache == CacheMode::None)
    std::printf("cache bytes: %zu kept between steps (none: K/V recomputed; %zu during a pass)\n",
                cap.cache_bytes, pass_bytes);
  else
    std::printf("cache bytes: %zu allocated (%s)\n", cap.cache_bytes,
                cache_mode_name(mf.variant.cache));
  return 0;
}

}  // namespace

int cmd_generate(int argc, char** argv) {
  return guard_command("generate", kUsage, argc, argv, [&] { return generate(argc, argv); });
}

}  // namespace core::cli
