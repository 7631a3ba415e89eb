#include "core/cli/model_open.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "core/io/atomic_write.h"
#include "core/model/tokenizer_gguf.h"

namespace core::cli {

OpenModel open_model(const ModelFlags& f) {
  const std::string path = model::resolve_model_path(f.model);
  struct stat st {};
  if (path != f.model && stat(path.c_str(), &st) != 0)
    throw ModelError(path + ": model '" + f.model +
                     "' is not downloaded; run scripts/setup (or set ATTNLAB_MODELS)");
  {
    const model::GgufFile file(path);
    check_variant(f, model::read_config(file));
  }
  OpenModel m{model::Model::load(path, f.threads), {}};
  m.tokenizer = model::load_tokenizer(m.model->gguf());
  return m;
}

model::RunOptions run_options(const ModelFlags& f) {
  model::RunOptions o;
  o.variant = f.variant;
  o.n_threads = f.threads;
  o.capture.attention = false;
  o.capture.cache = false;
  return o;
}

int logits_piece(const ModelVariant& v, int vocab, int n) {
  constexpr int64_t kMaxFloats = int64_t{64} << 20;
  if (static_cast<int64_t>(n) * vocab <= kMaxFloats) return n;
  const int fit = static_cast<int>(std::max<int64_t>(1, kMaxFloats / vocab));
  if (v.chunk <= 0) return fit;
  return std::max(v.chunk, fit / v.chunk * v.chunk);
}

int guard_command(const char* cmd, const char* usage, int argc, char** argv,
                  const std::function<int()>& body) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf("%s%s", usage, model_flags_usage().c_str());
      return 0;
    }
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "attnlab %s: %s\n%s%s", cmd, e.what(), usage, model_flags_usage().c_str());
    return 2;
  } catch (const ModelError& e) {
    std::fprintf(stderr, "attnlab %s: %s\n", cmd, e.what());
    return 2;
  } catch (const IoError& e) {
    std::fprintf(stderr, "attnlab %s: %s\n", cmd, e.what());
    return 2;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "attnlab %s: %s\n", cmd, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attnlab %s: error: %s\n", cmd, e.what());
    return 1;
  }
}

}  // namespace core::cli
