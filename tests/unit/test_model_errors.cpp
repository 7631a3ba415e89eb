// Bad model files: each defect gives a ModelError that names the file and the problem, the
// CLI exits 2 with that message, and nothing crashes (run under -DATTNLAB_ASAN=ON as well).
// The files are made here: a tiny but complete llama model written byte by byte, then broken
// in one place, so each test fails for exactly the defect it names.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/model/forward.h"
#include "core/model/gguf.h"
#include "tests/unit/model_test_support.h"

namespace core::model {
namespace {

// Tiny llama: 1 layer, d 32, 2 heads of 16, 1 KV head, ff 64, vocab 16.
constexpr int kD = 32, kHeads = 2, kKv = 1, kHd = 16, kFf = 64, kVocab = 16;

// Writes a GGUF v3 file and remembers where the fields the tests break live.
struct GgufBuilder {
  std::string b;
  size_t arch_value_len_at = 0;  // u64 length of general.architecture's value
  size_t arch_value_at = 0;      // its first byte
  size_t tensor_count_at = 0;
  size_t gate_type_at = 0;    // u32 type of blk.0.ffn_gate.weight
  size_t last_offset_at = 0;  // u64 offset of the last tensor
  size_t infos_end = 0;       // end of the tensor infos (before padding)

  void u32(uint32_t v) { b.append(reinterpret_cast<const char*>(&v), 4); }
  void u64(uint64_t v) { b.append(reinterpret_cast<const char*>(&v), 8); }
  void str(const std::string& s) {
    u64(s.size());
    b += s;
  }
  void kv_u32(const std::string& k, uint32_t v) {
    str(k);
    u32(4);
    u32(v);
  }
  void kv_f32(const std::string& k, float v) {
    str(k);
    u32(6);
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    u32(bits);
  }

  struct Tensor {
    std::string name;
    std::vector<uint64_t> dims;
    uint32_t type;  // 0 F32, 8 Q8_0
  };

  static std::string make(const std::string& arch = "llama", GgufBuilder* out = nullptr) {
    GgufBuilder g;
    g.b += "GGUF";
    g.u32(3);
    const std::vector<Tensor> ts = {
        {"token_embd.weight", {kD, kVocab}, 0},
        {"output_norm.weight", {kD}, 0},
        {"blk.0.attn_norm.weight", {kD}, 0},
        {"blk.0.attn_q.weight", {kD, kHeads * kHd}, 0},
        {"blk.0.attn_k.weight", {kD, kKv * kHd}, 0},
        {"blk.0.attn_v.weight", {kD, kKv * kHd}, 0},
        {"blk.0.attn_output.weight", {kHeads * kHd, kD}, 0},
        {"blk.0.ffn_norm.weight", {kD}, 0},
        {"blk.0.ffn_gate.weight", {kD, kFf}, 8},
        {"blk.0.ffn_up.weight", {kD, kFf}, 0},
        {"blk.0.ffn_down.weight", {kFf, kD}, 0},
    };
    g.tensor_count_at = g.b.size();
    g.u64(ts.size());
    g.u64(9);  // metadata count
    g.str("general.architecture");
    g.u32(8);
    g.arch_value_len_at = g.b.size();
    g.u64(arch.size());
    g.arch_value_at = g.b.size();
    g.b += arch;
    const std::string p = arch + ".";
    g.kv_u32(p + "block_count", 1);
    g.kv_u32(p + "embedding_length", kD);
    g.kv_u32(p + "feed_forward_length", kFf);
    g.kv_u32(p + "attention.head_count", kHeads);
    g.kv_u32(p + "attention.head_count_kv", kKv);
    g.kv_u32(p + "context_length", 64);
    g.kv_f32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
    g.str("general.alignment");
    g.u32(4);
    g.u32(32);
    std::vector<uint64_t> sizes;
    uint64_t offset = 0;
    for (const Tensor& t : ts) {
      g.str(t.name);
      g.u32(static_cast<uint32_t>(t.dims.size()));
      uint64_t n = 1;
      for (uint64_t d : t.dims) g.u64(d), n *= d;
      if (t.name == "blk.0.ffn_gate.weight") g.gate_type_at = g.b.size();
      g.u32(t.type);
      g.last_offset_at = g.b.size();
      g.u64(offset);
      const uint64_t bytes = t.type == 8 ? n / 32 * 34 : n * 4;
      sizes.push_back(bytes);
      offset += (bytes + 31) / 32 * 32;
    }
    g.infos_end = g.b.size();
    g.b.resize((g.b.size() + 31) / 32 * 32, '\0');
    uint32_t seed = 1;
    for (size_t i = 0; i < ts.size(); ++i) {
      const size_t start = g.b.size();
      if (ts[i].type == 0) {
        for (uint64_t j = 0; j < sizes[i] / 4; ++j) {
          seed = seed * 1664525u + 1013904223u;
          const float v = ((seed >> 8) / float(1 << 24) - 0.5f) * 0.2f + (j % 7 == 0 ? 1.0f : 0.0f);
          g.b.append(reinterpret_cast<const char*>(&v), 4);
        }
      } else {
        for (uint64_t blk = 0; blk < sizes[i] / 34; ++blk) {
          const uint16_t half_0p01 = 0x211f;  // f16 ~0.01
          g.b.append(reinterpret_cast<const char*>(&half_0p01), 2);
          for (int j = 0; j < 32; ++j)
            g.b.push_back(static_cast<char>((blk * 7 + j * 3) % 41 - 20));
        }
      }
      g.b.resize(start + (sizes[i] + 31) / 32 * 32, '\0');
    }
    if (out) *out = g;
    return g.b;
  }
};

std::string temp_dir() {
  return test_support::scratch_dir("attnlab_model_errors");
}

std::string write(const std::string& name, const std::string& bytes) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

template <typename T>
void put(std::string& b, size_t at, T v) {
  std::memcpy(&b[at], &v, sizeof(T));
}

// Model::load must throw ModelError "<path>: ..." containing `problem`.
void expect_model_error(const std::string& name, const std::string& bytes,
                        const std::string& problem) {
  const std::string path = write(name, bytes);
  try {
    Model::load(path, 1);
    ADD_FAILURE() << name << ": loaded without error, expected '" << problem << "'";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << "message does not start with the path: " << msg;
    EXPECT_NE(msg.find(problem), std::string::npos) << "message: " << msg;
  }
}

TEST(ModelErrors, TheCraftedBaselineLoads) {
  const std::string path = write("good.gguf", GgufBuilder::make());
  const auto m = Model::load(path, 1);
  EXPECT_EQ(m->config().n_layers, 1);
  EXPECT_EQ(m->config().n_kv_heads, kKv);
  EXPECT_EQ(m->config().vocab, kVocab);
  // It runs, so every defect below is the only thing wrong with its file.
  Session s(m, RunOptions{});
  const std::vector<float> lg = s.prefill({1, 2, 3});
  ASSERT_EQ(lg.size(), static_cast<size_t>(kVocab));
  for (float x : lg) EXPECT_TRUE(std::isfinite(x));
}

// The tensor data GgufFile hands out is the file's bytes at each tensor's offset, mapped and
// once read into memory (GgufFile::read_data_into_memory, which moves every tensor there).
TEST(ModelErrors, TensorDataIsTheFilesBytes) {
  const std::string bytes = GgufBuilder::make();
  const std::string path = write("bytes.gguf", bytes);
  GgufFile f(path);
  ASSERT_FALSE(f.tensors().empty());
  const uint8_t* mapped = f.tensors()[0].data;
  for (int read = 0; read < 2; ++read) {
    if (read) f.read_data_into_memory();
    for (const TensorInfo& ti : f.tensors()) {
      const size_t at = f.data_offset() + ti.offset;
      ASSERT_LE(at + ti.n_bytes, bytes.size()) << ti.name;
      EXPECT_EQ(std::memcmp(ti.data, bytes.data() + at, ti.n_bytes), 0) << ti.name;
    }
  }
  EXPECT_NE(f.tensors()[0].data, mapped) << "the tensors point into the copy";
}

TEST(ModelErrors, EmptyAndTinyFiles) {
  expect_model_error("empty.gguf", "", "too short for a GGUF header");
  expect_model_error("seven.gguf", "GGUF\3\0\0", "too short for a GGUF header");
}

TEST(ModelErrors, WrongMagic) {
  std::string b = GgufBuilder::make();
  b[3] = 'X';
  expect_model_error("magic.gguf", b, "bad magic (not a GGUF file)");
}

TEST(ModelErrors, UnsupportedVersion) {
  std::string b = GgufBuilder::make();
  put<uint32_t>(b, 4, 7);
  expect_model_error("version.gguf", b, "unsupported GGUF version 7");
}

TEST(ModelErrors, TruncatedInTheHeader) {
  GgufBuilder g;
  const std::string b = GgufBuilder::make("llama", &g);
  expect_model_error("cut_meta.gguf", b.substr(0, g.arch_value_at + 2), "truncated");
  expect_model_error("cut_infos.gguf", b.substr(0, g.infos_end - 5), "truncated");
}

TEST(ModelErrors, TruncatedData) {
  const std::string b = GgufBuilder::make();
  expect_model_error("cut_data.gguf", b.substr(0, b.size() - 40), "offset out of range");
}

TEST(ModelErrors, TensorOffsetBeyondTheFile) {
  GgufBuilder g;
  std::string b = GgufBuilder::make("llama", &g);
  put<uint64_t>(b, g.last_offset_at, uint64_t{1} << 40);
  expect_model_error("offset.gguf", b, "tensor blk.0.ffn_down.weight offset out of range");
  put<uint64_t>(b, g.last_offset_at, ~uint64_t{0} - 31);  // would wrap around if added blindly
  expect_model_error("offset_wrap.gguf", b, "offset out of range");
  put<uint64_t>(b, g.last_offset_at, 8);
  expect_model_error("offset_align.gguf", b, "is not aligned");
}

TEST(ModelErrors, UnknownArchitecture) {
  expect_model_error("arch.gguf", GgufBuilder::make("mamba"),
                     "unknown architecture 'mamba' (supported: llama, gemma3)");
}

TEST(ModelErrors, UnsupportedQuantTypes) {
  GgufBuilder g;
  std::string b = GgufBuilder::make("llama", &g);
  put<uint32_t>(b, g.gate_type_at, 99);  // no ggml type has this id
  expect_model_error("type99.gguf", b,
                     "unsupported quant type id 99 for tensor blk.0.ffn_gate.weight");
  put<uint32_t>(b, g.gate_type_at, 20);  // IQ4_NL: a real ggml type this code does not decode
  expect_model_error("iq4nl.gguf", b,
                     "unsupported quant type IQ4_NL for tensor blk.0.ffn_gate.weight");
}

TEST(ModelErrors, LengthsAndCountsPastTheEnd) {
  GgufBuilder g;
  std::string b = GgufBuilder::make("llama", &g);
  std::string s = b;
  put<uint64_t>(s, g.arch_value_len_at, uint64_t{1} << 40);
  expect_model_error("strlen.gguf", s, "truncated: string value needs 1099511627776 bytes");
  put<uint64_t>(s, g.arch_value_len_at, ~uint64_t{0});
  expect_model_error("strlen_max.gguf", s, "truncated: string value needs");
  std::string t = b;
  put<uint64_t>(t, g.tensor_count_at, uint64_t{1} << 50);
  expect_model_error("tcount.gguf", t,
                     "tensor count 1125899906842624 exceeds what the file can hold");
  std::string m = b;
  put<uint64_t>(m, g.tensor_count_at + 8, uint64_t{1} << 50);
  expect_model_error("kvcount.gguf", m,
                     "metadata count 1125899906842624 exceeds what the file can hold");
}

bool have(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

// The downloaded SmolLM2 cut short: the header parses but the tensors run past the end.
TEST(ModelErrors, RealFileTruncated) {
  const std::string src = resolve_model_path("smollm2");
  if (!have(src)) GTEST_SKIP() << "model file " << src << " is missing (run scripts/setup)";
  std::ifstream in(src, std::ios::binary);
  std::string head(2 * 1024 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  expect_model_error("smol_2mb.gguf", head, "offset out of range");
  expect_model_error("smol_100kb.gguf", head.substr(0, 100000), "truncated");
}

int run_cli(const std::string& model, std::string* err) {
  const std::string errf = temp_dir() + "/stderr";
  const std::string cmd = std::string("'") + ATTNLAB_BINARY + "' generate --prompt hi --model '" +
                          model + "' >/dev/null 2>'" + errf + "'";
  const int st = std::system(cmd.c_str());
  std::ifstream f(errf);
  std::stringstream ss;
  ss << f.rdbuf();
  *err = ss.str();
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(ModelErrors, CliExits2NamingFileAndProblem) {
  GgufBuilder g;
  const std::string good = GgufBuilder::make("llama", &g);
  std::string magic = good, offset = good, quant = good;
  magic[0] = 'X';
  put<uint64_t>(offset, g.last_offset_at, uint64_t{1} << 40);
  put<uint32_t>(quant, g.gate_type_at, 99);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {write("cli_trunc.gguf", good.substr(0, good.size() / 2)), "offset out of range"},
      {write("cli_magic.gguf", magic), "bad magic"},
      {write("cli_offset.gguf", offset), "offset out of range"},
      {write("cli_arch.gguf", GgufBuilder::make("mamba")), "unknown architecture 'mamba'"},
      {write("cli_quant.gguf", quant), "unsupported quant type id 99"},
  };
  for (const auto& [path, problem] : cases) {
    std::string err;
    EXPECT_EQ(run_cli(path, &err), 2) << path << ": " << err;
    EXPECT_NE(err.find(path + ": "), std::string::npos) << err;
    EXPECT_NE(err.find(problem), std::string::npos) << err;
  }
}

// Random truncations and byte flips over the header and tensor table: every result is a
// clean load or a ModelError, never another exception or a crash (ASan checks the reads).
TEST(ModelErrors, RandomCorruptionNeverCrashes) {
  GgufBuilder g;
  const std::string good = GgufBuilder::make("llama", &g);
  std::mt19937 rng(20261202);
  const std::string path = temp_dir() + "/fuzz.gguf";
  const auto t0 = std::chrono::steady_clock::now();
  int loaded = 0, rejected = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(8)) break;
    std::string b = good;
    if (rng() % 4 == 0) {
      b.resize(rng() % good.size());
    } else {
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < flips; ++i) {
        const size_t at = rng() % g.infos_end;
        if (rng() % 2)
          b[at] = static_cast<char>(b[at] ^ (1 << (rng() % 8)));
        else
          b[at] = static_cast<char>(rng());
      }
    }
    std::ofstream(path, std::ios::binary | std::ios::trunc) << b;
    try {
      Model::load(path, 1);
      ++loaded;
    } catch (const ModelError& e) {
      ++rejected;
      ASSERT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
    } catch (const std::exception& e) {
      FAIL() << "iteration " << iter << ": not a ModelError: " << e.what();
    }
  }
  EXPECT_GT(rejected, 100);
  std::printf("random corruption: %d loaded, %d rejected\n", loaded, rejected);
}

}  // namespace
}  // namespace core::model
