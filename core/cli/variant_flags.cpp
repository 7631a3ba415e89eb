#include "core/cli/variant_flags.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/attention/window_text.h"
#include "core/model/catalog.h"

namespace core::cli {

std::string model_flags_usage() {
  std::string names;
  try {
    names = model::catalog_names_text();
  } catch (const std::exception& e) {
    names = std::string("a catalog name [") + e.what() + "]";
  }
  return "  --model M                 GGUF path, or " + names +
         " (assets/models.json,\n"
         "                            downloaded by scripts/setup); default smollm2\n"
         "  --threads T               worker threads (default: all cores)\n"
         "  --window W                sliding-window override (0 = the model's own windows)\n"
         "  --window-convention C     including_self (" +
         attn::convention_phrase(attn::WindowConvention::IncludingSelf) +
         ", default) |\n"
         "                            self_plus_previous (" +
         attn::convention_phrase(attn::WindowConvention::SelfPlusPrevious) + ")\n" +
         kVariantFlagsUsage;
}

const char* const kVariantFlagsUsage =
    "  --window-layers L,L,...   layers the override applies to (default: all)\n"
    "  --kv-heads K              mean-pool K/V heads down to K (divides the native count)\n"
    "  --cache none|full|rolling|paged\n"
    "                            KV cache: recompute each step, grow, a ring of W slots, or\n"
    "                            blocks of B tokens through a block table and a free list\n"
    "  --block B                 tokens per block of --cache paged (default 16)\n"
    "  --sparse G,L[,R[,SEED]]   run every layer under the sparse pattern: G global tokens,\n"
    "                            a band of L keys including self, R seeded random keys\n"
    "  --chunk C                 prefill C tokens at a time (0 = all at once)\n"
    "  --segments N,N,...        (dump, generate) pack prompts: the prompt's tokens split into\n"
    "                            these lengths (they must sum to its token count), causal\n"
    "                            inside each, nothing across, positions restarting at 0;\n"
    "                            generate continues the last one\n";

bool take_value(int argc, char** argv, int& i, const char* name, std::string* value) {
  const size_t n = std::strlen(name);
  const char* a = argv[i];
  if (std::strncmp(a, name, n) != 0) return false;
  if (a[n] == '=') {
    *value = a + n + 1;
    return true;
  }
  if (a[n] != '\0') return false;
  if (i + 1 >= argc) throw UsageError(std::string(name) + " needs a value");
  *value = argv[++i];
  return true;
}

int parse_int(const std::string& flag, const std::string& text, int lo, int hi) {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    throw UsageError(flag + " '" + text + "' is not an integer");
  if (v < lo || v > hi)
    throw UsageError(flag + " " + text + " is out of range [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
  return static_cast<int>(v);
}

std::vector<int> parse_int_list(const std::string& flag, const std::string& text, int lo, int hi) {
  std::vector<int> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    out.push_back(parse_int(flag, item, lo, hi));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool parse_model_flag(int argc, char** argv, int& i, ModelFlags& f) {
  constexpr int kBig = 1 << 20;
  std::string v;
  ModelVariant& mv = f.variant;
  if (take_value(argc, argv, i, "--model", &v)) {
    if (v.empty()) throw UsageError("--model needs a GGUF path or " + model::catalog_names_text());
    f.model = v;
  } else if (take_value(argc, argv, i, "--threads", &v)) {
    f.threads = parse_int("--threads", v, 1, 1024);
  } else if (take_value(argc, argv, i, "--window", &v)) {
    mv.window = parse_int("--window", v, 0, kBig);
  } else if (take_value(argc, argv, i, "--window-convention", &v)) {
    if (v == "including_self") {
      mv.window_convention = attn::WindowConvention::IncludingSelf;
    } else if (v == "self_plus_previous") {
      mv.window_convention = attn::WindowConvention::SelfPlusPrevious;
    } else {
      throw UsageError("--window-convention '" + v +
                       "' is not including_self or self_plus_previous");
    }
    f.convention_set = true;
  } else if (take_value(argc, argv, i, "--window-layers", &v)) {
    mv.window_layers = parse_int_list("--window-layers", v, 0, kBig);
  } else if (take_value(argc, argv, i, "--kv-heads", &v)) {
    mv.kv_heads = parse_int("--kv-heads", v, 1, kBig);
  } else if (take_value(argc, argv, i, "--cache", &v)) {
    if (v == "none") {
      mv.cache = CacheMode::None;
    } else if (v == "full") {
      mv.cache = CacheMode::Full;
    } else if (v == "rolling") {
      mv.cache = CacheMode::Rolling;
    } else if (v == "paged") {
      mv.cache = CacheMode::Paged;
    } else {
      throw UsageError("--cache '" + v + "' is not none, full, rolling or paged");
    }
  } else if (take_value(argc, argv, i, "--block", &v)) {
    mv.block = parse_int("--block", v, 1, 4096);
    f.block_set = true;
  } else if (take_value(argc, argv, i, "--sparse", &v)) {
    const std::vector<int> sp = parse_int_list("--sparse", v, 0, kBig);
    if (sp.size() < 2 || sp.size() > 4 || sp[1] < 1 || (sp.size() > 2 && sp[2] > 64))
      throw UsageError("--sparse '" + v +
                       "' is not G,L[,R[,SEED]] with L >= 1 (band keys) and R <= 64");
    mv.sparse_global = sp[0];
    mv.sparse_local = sp[1];
    mv.sparse_random = sp.size() > 2 ? sp[2] : 0;
    mv.sparse_seed = sp.size() > 3 ? static_cast<uint32_t>(sp[3]) : 1;
  } else if (take_value(argc, argv, i, "--chunk", &v)) {
    mv.chunk = parse_int("--chunk", v, 0, kBig);
  } else if (take_value(argc, argv, i, "--segments", &v)) {
    mv.segments = parse_int_list("--segments", v, 1, kBig);
  } else {
    return false;
  }
  return true;
}

void check_variant(const ModelFlags& f, const model::Config& c) {
  const ModelVariant& v = f.variant;
  if (v.window == 0 && !v.window_layers.empty())
    throw UsageError("--window-layers needs --window W");
  if (v.window == 0 && f.convention_set)
    throw UsageError(
        "--window-convention needs --window W (the model's own windows keep "
        "their convention)");
  for (int l : v.window_layers)
    if (l >= c.n_layers)
      throw UsageError("--window-layers " + std::to_string(l) + " is out of range: the model has " +
                       std::to_string(c.n_layers) + " layers (0.." +
                       std::to_string(c.n_layers - 1) + ")");
  if (v.kv_heads > 0 &&
      (v.kv_heads > c.n_kv_heads || c.n_kv_heads % v.kv_heads != 0 || c.n_heads % v.kv_heads != 0))
    throw UsageError("--kv-heads " + std::to_string(v.kv_heads) + " must divide the model's " +
                     std::to_string(c.n_kv_heads) + " KV heads (and its " +
                     std::to_string(c.n_heads) + " query heads)");
  if (v.sparse_local > 0 && (v.window > 0 || v.cache == CacheMode::Rolling))
    throw UsageError("--sparse replaces every layer's mask: drop --window and --cache rolling");
  if (v.sparse_local > 0 && !v.segments.empty())
    throw UsageError("--segments and --sparse each replace every layer's mask: choose one");
  if (f.block_set && v.cache != CacheMode::Paged) throw UsageError("--block needs --cache paged");
  if (v.cache == CacheMode::Rolling) {
    bool any = v.window > 0;
    for (const model::LayerConfig& l : c.layers) any |= l.window > 0;
    if (!any)
      throw UsageError(
          "--cache rolling needs a sliding window: this model has none, so add "
          "--window W");
  }
}

namespace {

std::string join_ints(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s;
}

}  // namespace

void check_segments(const ModelVariant& v, int n_tokens) {
  if (v.segments.empty()) return;
  int64_t sum = 0;
  for (int len : v.segments) sum += len;
  if (sum != n_tokens)
    throw UsageError("--segments " + join_ints(v.segments) + " sum to " + std::to_string(sum) +
                     " tokens, but the prompt has " + std::to_string(n_tokens) +
                     " tokens (BOS included when the model adds one)");
}

void reject_segments(const ModelVariant& v, const char* cmd) {
  if (!v.segments.empty())
    throw UsageError(std::string("--segments packs prompts for dump and generate, not ") + cmd);
}

std::string describe_variant(const ModelVariant& v, const model::Config& c) {
  std::string s;
  if (v.window > 0) {
    s = "window " + std::to_string(v.window) + " (" + window_convention_name(v.window_convention) +
        ") on ";
    if (v.window_layers.empty()) {
      s += "all layers";
    } else {
      s += "layers";
      for (size_t i = 0; i < v.window_layers.size(); ++i) {
        s += i ? ',' : ' ';
        s += std::to_string(v.window_layers[i]);
      }
    }
  } else {
    int windowed = 0, w = 0;
    for (const model::LayerConfig& l : c.layers)
      if (l.window > 0) ++windowed, w = l.window;
    s = windowed ? "native window " + std::to_string(w) + " on " + std::to_string(windowed) +
                       " of " + std::to_string(c.n_layers) + " layers"
                 : "full causal attention";
  }
  const int kv = v.kv_heads > 0 ? v.kv_heads : c.n_kv_heads;
  s += ", " + std::to_string(kv) + " kv heads" + (kv != c.n_kv_heads ? " (pooled)" : "");
  s += std::string(", cache ") + cache_mode_name(v.cache);
  if (v.cache == CacheMode::Paged) s += " (blocks of " + std::to_string(v.block) + ")";
  if (v.sparse_local > 0)
    s += ", sparse: " + std::to_string(v.sparse_global) + " global, band " +
         std::to_string(v.sparse_local) + ", " + std::to_string(v.sparse_random) + " random";
  if (!v.segments.empty())
    s += ", " + std::to_string(v.segments.size()) + " packed prompts (" + join_ints(v.segments) +
         " tokens, positions restart per prompt)";
  s += v.chunk > 0 ? ", prefill chunk " + std::to_string(v.chunk) : ", one-shot prefill";
  return s;
}

}  // namespace core::cli
