// libFuzzer target: bytes -> GGUF reader -> config (with the metadata validation pass) ->
// tokenizer -> one encode/decode. Every input must end in a model or a ModelError; any other
// exception, crash, sanitizer report or allocation over -rss_limit_mb is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/model/config.h"
#include "core/model/gguf.h"
#include "core/model/tokenizer_gguf.h"

namespace {

const std::string& scratch_path() {
  static const std::string path = [] {
    std::string p = "/tmp/attnlab_fuzz_gguf_" + std::to_string(::getpid());
    std::atexit([] { std::remove(scratch_path().c_str()); });
    return p;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = scratch_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const core::model::GgufFile file(path);
    const core::model::Config c = core::model::read_config(file);
    const core::model::Tokenizer tok = core::model::load_tokenizer(file);
    const std::vector<int32_t> ids = tok.encode("Hello world, 12345 <0x41> \xE2\x96\x81x\n");
    for (int32_t id : ids)
      if (id < 0 || id >= c.vocab) __builtin_trap();  // encode must stay inside the vocabulary
    (void)tok.decode(ids);
  } catch (const core::ModelError&) {
  }
  return 0;
}
