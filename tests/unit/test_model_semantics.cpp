// Model files whose structure is sound but whose metadata means something we cannot run: the
// second table of crafted defects (test_model_errors.cpp holds the structural ones). Each case
// edits the downloaded model's metadata or tensor table in one place (tests/unit/gguf_edit.h;
// the weights stay a hole in a sparse file, since the defect must be refused before any weight
// is read) and expects a ModelError that starts with the file and names the key or tensor.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/model/config.h"
#include "core/model/forward.h"
#include "core/model/tokenizer_gguf.h"
#include "tests/unit/gguf_edit.h"
#include "tests/unit/model_test_support.h"

namespace {

using core::model::Config;
using test_support::GgufEdit;

struct Model {
  std::string name;
  Config c;
  std::string p;  // "llama." or "gemma3."
  GgufEdit edit;
};

struct Case {
  const char* name;
  const char* defect_class;                            // what kind of meaning is broken
  std::function<bool(GgufEdit&, const Model&)> apply;  // false: not applicable to this model
  std::function<std::string(const Model&)> expect;     // substring of the message
};

std::string scratch(const std::string& name) {
  return test_support::scratch_dir("attnlab_model_semantics") + "/" + name;
}

// What open_model does before the weights: parse, config with validation, tokenizer.
void open_without_weights(const std::string& path) {
  const core::model::GgufFile f(path);
  (void)core::model::read_config(f);
  (void)core::model::load_tokenizer(f);
}

const Model* model(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Model>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second.get();
  std::unique_ptr<Model> m;
  const std::string path = core::model::resolve_model_path(name);
  if (std::ifstream(path).good()) {
    const core::model::GgufFile f(path);
    m = std::make_unique<Model>();
    m->name = name;
    m->c = core::model::read_config(f);
    m->p = std::string(core::model::arch_name(m->c.arch)) + ".";
    m->edit = GgufEdit::from(f);
  }
  return (cache[name] = std::move(m)).get();
}

void resize_vocab(GgufEdit& e, size_t n) {
  std::vector<std::string> t = e.strings("tokenizer.ggml.tokens");
  t.resize(n, "extra");
  e.set_strings("tokenizer.ggml.tokens", t);
  if (e.find("tokenizer.ggml.scores")) {
    auto s = e.numbers<float>("tokenizer.ggml.scores");
    s.resize(n, 0.0f);
    e.set_numbers("tokenizer.ggml.scores", 6, s);
  }
  if (e.find("tokenizer.ggml.token_type")) {
    auto s = e.numbers<int32_t>("tokenizer.ggml.token_type");
    s.resize(n, 1);
    e.set_numbers("tokenizer.ggml.token_type", 5, s);
  }
}

// Token `id` becomes `text` with type `type`.
void set_token(GgufEdit& e, size_t id, const std::string& text, int32_t type) {
  std::vector<std::string> t = e.strings("tokenizer.ggml.tokens");
  t[id] = text;
  e.set_strings("tokenizer.ggml.tokens", t);
  std::vector<int32_t> ty = e.find("tokenizer.ggml.token_type")
                                ? e.numbers<int32_t>("tokenizer.ggml.token_type")
                                : std::vector<int32_t>(t.size(), 1);
  ty[id] = type;
  e.set_numbers("tokenizer.ggml.token_type", 5, ty);
}

std::string key(const Model& m, const char* k) {
  return m.p + k;
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Every case is one edit; the expected text names the key or tensor that is wrong.
const std::vector<Case>& cases() {
  using E = GgufEdit;
  using M = Model;
  auto fixed = [](std::string s) { return [s](const M&) { return s; }; };
  auto k = [](const char* s) { return [s](const M& m) { return key(m, s); }; };
  static const std::vector<Case> all = {
      // Vocabulary against the embedding rows.
      {"tokens_one_short", "vocab = tokens = rows",
       [](E& e, const M& m) { return resize_vocab(e, m.c.vocab - 1), true; },
       fixed("tokenizer.ggml.tokens has")},
      {"tokens_one_long", "vocab = tokens = rows",
       [](E& e, const M& m) { return resize_vocab(e, m.c.vocab + 1), true; },
       fixed("tokenizer.ggml.tokens has")},
      {"scores_short", "per-token arrays",
       [](E& e, const M& m) {
         if (!e.find("tokenizer.ggml.scores"))
           e.set_numbers("tokenizer.ggml.scores", 6, std::vector<float>(m.c.vocab, 0));
         auto s = e.numbers<float>("tokenizer.ggml.scores");
         s.pop_back();
         e.set_numbers("tokenizer.ggml.scores", 6, s);
         return true;
       },
       fixed("tokenizer.ggml.scores has")},
      {"types_short", "per-token arrays",
       [](E& e, const M&) {
         auto s = e.numbers<int32_t>("tokenizer.ggml.token_type");
         s.pop_back();
         e.set_numbers("tokenizer.ggml.token_type", 5, s);
         return true;
       },
       fixed("tokenizer.ggml.token_type has")},
      {"score_nan", "finite numbers",
       [](E& e, const M& m) {
         auto s = e.find("tokenizer.ggml.scores") ? e.numbers<float>("tokenizer.ggml.scores")
                                                  : std::vector<float>(m.c.vocab, 0);
         s[7] = kNaN;
         e.set_numbers("tokenizer.ggml.scores", 6, s);
         return true;
       },
       fixed("tokenizer.ggml.scores[7] is not finite")},
      {"token_type_7", "known token types",
       [](E& e, const M&) { return set_token(e, 300, "x7", 7), true; },
       fixed("tokenizer.ggml.token_type[300] = 7")},
      {"token_type_negative", "known token types",
       [](E& e, const M&) { return set_token(e, 300, "x7", -1), true; },
       fixed("tokenizer.ggml.token_type[300] = -1")},
      {"byte_token_minus_9", "byte tokens parsed",
       [](E& e, const M&) { return set_token(e, 300, "<0x-9>", 6), true; },
       fixed("tokenizer.ggml.tokens[300] = '<0x-9>' has token type byte")},
      {"byte_token_minus_1", "byte tokens parsed",
       [](E& e, const M&) { return set_token(e, 300, "<0x-1>", 6), true; },
       fixed("'<0x-1>' has token type byte")},
      {"byte_token_zz", "byte tokens parsed",
       [](E& e, const M&) { return set_token(e, 300, "<0xZZ>", 6), true; },
       fixed("'<0xZZ>' has token type byte")},
      {"byte_token_long", "byte tokens parsed",
       [](E& e, const M&) { return set_token(e, 300, "<0x041>", 6), true; },
       fixed("'<0x041>' has token type byte")},
      {"byte_token_twice", "byte tokens parsed",
       [](E& e, const M&) {
         set_token(e, 300, "<0x41>", 6);
         set_token(e, 301, "<0x41>", 6);
         return true;
       },
       fixed("repeats byte token")},
      {"bos_is_vocab", "special ids in the vocabulary",
       [](E& e, const M& m) { return e.set_u32("tokenizer.ggml.bos_token_id", m.c.vocab), true; },
       fixed("tokenizer.ggml.bos_token_id")},
      {"eos_minus_2", "special ids in the vocabulary",
       [](E& e, const M&) { return e.set_i32("tokenizer.ggml.eos_token_id", -2), true; },
       fixed("tokenizer.ggml.eos_token_id")},
      {"unk_past_vocab", "special ids in the vocabulary",
       [](E& e, const M& m) {
         return e.set_u32("tokenizer.ggml.unknown_token_id", m.c.vocab + 5), true;
       },
       fixed("tokenizer.ggml.unknown_token_id")},
      {"pad_huge", "special ids in the vocabulary",
       [](E& e, const M&) {
         return e.set_u64("tokenizer.ggml.padding_token_id", uint64_t{1} << 32), true;
       },
       fixed("tokenizer.ggml.padding_token_id")},
      {"tokens_not_strings", "metadata types",
       [](E& e, const M& m) {
         return e.set_numbers("tokenizer.ggml.tokens", 5, std::vector<int32_t>(m.c.vocab, 1)), true;
       },
       fixed("tokenizer.ggml.tokens is not an array of strings")},
      {"tokenizer_model_unknown", "metadata types",
       [](E& e, const M&) { return e.set_str("tokenizer.ggml.model", "wordpiece"), true; },
       fixed("unsupported tokenizer.ggml.model 'wordpiece'")},
      {"merge_without_space", "tokenizer merges",
       [](E& e, const M&) {
         if (!e.find("tokenizer.ggml.merges")) return false;
         auto m = e.strings("tokenizer.ggml.merges");
         m[3] = "nospace";
         e.set_strings("tokenizer.ggml.merges", m);
         return true;
       },
       fixed("merge 3 has no space")},
      // Narrowing and ranges of the hyper-parameters.
      {"block_count_2p32_plus_1", "narrowing",
       [](E& e, const M& m) {
         return e.set_u64(key(m, "block_count"), (uint64_t{1} << 32) + 1), true;
       },
       k("block_count = 4294967297 is out of range")},
      {"embedding_length_2p32_plus_d", "narrowing",
       [](E& e, const M& m) {
         return e.set_u64(key(m, "embedding_length"), (uint64_t{1} << 32) + m.c.d_model), true;
       },
       k("embedding_length")},
      {"context_length_2p40", "narrowing",
       [](E& e, const M& m) {
         return e.set_u64(key(m, "context_length"), uint64_t{1} << 40), true;
       },
       k("context_length")},
      {"block_count_u64_max", "narrowing",
       [](E& e, const M& m) { return e.set_u64(key(m, "block_count"), ~uint64_t{0}), true; },
       k("block_count")},
      {"block_count_0", "ranges",
       [](E& e, const M& m) { return e.set_u32(key(m, "block_count"), 0), true; },
       k("block_count = 0 is out of range")},
      {"context_length_0", "ranges",
       [](E& e, const M& m) { return e.set_u32(key(m, "context_length"), 0), true; },
       k("context_length = 0 is out of range")},
      {"head_count_0", "ranges",
       [](E& e, const M& m) { return e.set_u32(key(m, "attention.head_count"), 0), true; },
       k("attention.head_count = 0")},
      {"embedding_length_as_float", "metadata types",
       [](E& e, const M& m) { return e.set_f32(key(m, "embedding_length"), 576.0f), true; },
       k("embedding_length is not an integer")},
      {"architecture_as_number", "metadata types",
       [](E& e, const M&) { return e.set_u32("general.architecture", 7), true; },
       fixed("general.architecture is not a string")},
      {"eps_nan", "finite numbers",
       [](E& e, const M& m) {
         return e.set_f32(key(m, "attention.layer_norm_rms_epsilon"), kNaN), true;
       },
       k("attention.layer_norm_rms_epsilon")},
      {"eps_negative", "finite numbers",
       [](E& e, const M& m) {
         return e.set_f32(key(m, "attention.layer_norm_rms_epsilon"), -1e-6f), true;
       },
       k("attention.layer_norm_rms_epsilon")},
      {"eps_zero", "finite numbers",
       [](E& e, const M& m) {
         return e.set_f32(key(m, "attention.layer_norm_rms_epsilon"), 0), true;
       },
       k("attention.layer_norm_rms_epsilon")},
      {"eps_inf", "finite numbers",
       [](E& e, const M& m) {
         return e.set_f32(key(m, "attention.layer_norm_rms_epsilon"), kInf), true;
       },
       k("attention.layer_norm_rms_epsilon")},
      {"freq_base_nan", "finite numbers",
       [](E& e, const M& m) { return e.set_f32(key(m, "rope.freq_base"), kNaN), true; },
       k("rope.freq_base")},
      {"freq_base_half", "finite numbers",
       [](E& e, const M& m) { return e.set_f32(key(m, "rope.freq_base"), 0.5f), true; },
       k("rope.freq_base")},
      {"softcap_nan", "finite numbers",
       [](E& e, const M& m) {
         if (m.c.arch != core::model::Arch::Gemma3) return false;
         return e.set_f32(key(m, "final_logit_softcapping"), kNaN), true;
       },
       k("final_logit_softcapping")},
      {"query_pre_attn_scalar_0", "ranges",
       [](E& e, const M& m) {
         if (m.c.arch != core::model::Arch::Gemma3) return false;
         return e.set_u32(key(m, "attention.query_pre_attn_scalar"), 0), true;
       },
       k("attention.query_pre_attn_scalar")},
      {"sliding_window_negative", "windows within the context",
       [](E& e, const M& m) {
         if (m.c.arch != core::model::Arch::Gemma3) return false;
         return e.set_i32(key(m, "attention.sliding_window"), -1), true;
       },
       k("attention.sliding_window = -1")},
      {"sliding_window_past_context", "windows within the context",
       [](E& e, const M& m) {
         if (m.c.arch != core::model::Arch::Gemma3) return false;
         return e.set_u32(key(m, "attention.sliding_window"), m.c.context_length + 1), true;
       },
       k("attention.sliding_window")},
      // Head sizes against each other and against the projections.
      {"rope_dims_odd", "RoPE size",
       [](E& e, const M& m) {
         return e.set_u32(key(m, "rope.dimension_count"), m.c.head_dim - 1), true;
       },
       k("rope.dimension_count")},
      {"rope_dims_half", "RoPE size",
       [](E& e, const M& m) {
         return e.set_u32(key(m, "rope.dimension_count"), m.c.head_dim / 2), true;
       },
       k("rope.dimension_count")},
      {"value_length_differs", "head sizes",
       [](E& e, const M& m) {
         return e.set_u32(key(m, "attention.value_length"), m.c.head_dim * 2), true;
       },
       k("attention.value_length")},
      {"kv_heads_not_dividing", "head sizes",
       [](E& e, const M& m) {
         if (m.c.n_heads < 3) return false;
         return e.set_u32(key(m, "attention.head_count_kv"), m.c.n_heads - 1), true;
       },
       [](const M& m) {
         return key(m, "attention.head_count_kv = ") + std::to_string(m.c.n_heads - 1) +
                " does not divide";
       }},
      {"kv_heads_above_heads", "head sizes",
       [](E& e, const M& m) {
         return e.set_u32(key(m, "attention.head_count_kv"), m.c.n_heads * 2), true;
       },
       k("attention.head_count_kv")},
      {"heads_doubled", "heads x head_dim vs projections",
       [](E& e, const M& m) {
         return e.set_u32(key(m, "attention.head_count"), m.c.n_heads * 2), true;
       },
       fixed("the metadata implies")},
      {"key_length_doubled", "heads x head_dim vs projections",
       [](E& e, const M& m) {
         return e.set_u32(key(m, "attention.key_length"), m.c.head_dim * 2), true;
       },
       fixed("tensor blk.0.attn_q.weight has shape")},
      {"ffn_length_plus_1", "shapes vs config",
       [](E& e, const M& m) {
         return e.set_u32(key(m, "feed_forward_length"), m.c.d_ff + 1), true;
       },
       fixed("tensor blk.0.ffn_gate.weight has shape")},
      // The tensor table against the config.
      {"block_count_minus_1", "layers vs tensors",
       [](E& e, const M& m) { return e.set_u32(key(m, "block_count"), m.c.n_layers - 1), true; },
       [](const M& m) { return "belongs to layer " + std::to_string(m.c.n_layers - 1); }},
      {"block_count_plus_1", "layers vs tensors",
       [](E& e, const M& m) { return e.set_u32(key(m, "block_count"), m.c.n_layers + 1), true; },
       [](const M& m) { return "missing tensor blk." + std::to_string(m.c.n_layers) + "."; }},
      {"embedding_rows_cut", "vocab = tokens = rows",
       [](E& e, const M&) { return e.tensor("token_embd.weight")->dims[1] -= 1, true; },
       fixed("tokenizer.ggml.tokens has")},
      {"norm_shape_wrong", "shapes vs config",
       [](E& e, const M& m) {
         return e.tensor("output_norm.weight")->dims[0] = m.c.d_model / 2, true;
       },
       fixed("tensor output_norm.weight has shape")},
      {"norm_quantized_unsupported", "decodable types",
       [](E& e, const M&) { return e.tensor("blk.0.attn_norm.weight")->type = 20, true; },
       fixed("unsupported quant type IQ4_NL for tensor blk.0.attn_norm.weight")},
      {"stray_layer_tensor", "layers vs tensors",
       [](E& e, const M&) {
         E::Tensor t = *e.tensor("blk.0.attn_norm.weight");
         t.name = "blk.x.attn_norm.weight";
         e.tensors.push_back(t);
         return true;
       },
       fixed("tensor blk.x.attn_norm.weight has no layer number")},
      {"duplicate_tensor_name", "duplicates",
       [](E& e, const M&) {
         return e.tensor("blk.0.ffn_up.weight")->name = "blk.0.ffn_gate.weight", true;
       },
       fixed("duplicate tensor name blk.0.ffn_gate.weight")},
      {"duplicate_metadata_key", "duplicates",
       [](E& e, const M& m) {
         e.kvs.push_back({key(m, "block_count"), 4, E::bytes<uint32_t>(m.c.n_layers - 1)});
         return true;
       },
       [](const M& m) { return "duplicate metadata key " + key(m, "block_count"); }},
  };
  return all;
}

void run_table(const std::string& name) {
  const Model* m = model(name);
  if (!m)
    GTEST_SKIP() << "model file " << core::model::resolve_model_path(name)
                 << " is missing (run scripts/setup)";
  // The rewritten file without an edit opens: each case below is its one defect.
  const std::string base = scratch(name + "_unedited.gguf");
  m->edit.write_sparse(base);
  ASSERT_NO_THROW(open_without_weights(base));
  int applied = 0;
  std::set<std::string> classes;
  for (const Case& c : cases()) {
    GgufEdit e = m->edit;
    if (!c.apply(e, *m)) continue;
    ++applied;
    classes.insert(c.defect_class);
    const std::string path = scratch(name + "_" + c.name + ".gguf");
    e.write_sparse(path);
    const std::string want = c.expect(*m);
    try {
      open_without_weights(path);
      ADD_FAILURE() << c.name << ": opened without error, expected '" << want << "'";
    } catch (const core::ModelError& err) {
      const std::string msg = err.what();
      EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << c.name << ": not naming the file: " << msg;
      EXPECT_NE(msg.find(want), std::string::npos) << c.name << ": " << msg;
    } catch (const std::exception& err) {
      ADD_FAILURE() << c.name << ": not a ModelError: " << err.what();
    }
    std::remove(path.c_str());
  }
  std::printf("%s: %d semantic cases in %zu classes\n", name.c_str(), applied, classes.size());
  EXPECT_GE(applied, 45);
}

TEST(ModelSemantics, SmolLM2DefectsAreRefusedNamingFileAndKey) {
  run_table("smollm2");
}

TEST(ModelSemantics, Gemma3DefectsAreRefusedNamingFileAndKey) {
  run_table("gemma3");
}

// Through the binary: the defects the issue listed exit 2 with the file named (one of them
// used to crash, one exited 1 without the file).
TEST(ModelSemantics, CliExits2NamingTheFile) {
  const Model* m = model("gemma3");
  if (!m)
    GTEST_SKIP() << "model file " << core::model::resolve_model_path("gemma3") << " is missing";
  const std::vector<std::pair<std::string, std::function<void(GgufEdit&)>>> edits = {
      {"cli_byte.gguf", [](GgufEdit& e) { set_token(e, 300, "<0x-9>", 6); }},
      {"cli_ctx0.gguf", [&](GgufEdit& e) { e.set_u32(key(*m, "context_length"), 0); }},
      {"cli_vocab.gguf", [&](GgufEdit& e) { resize_vocab(e, m->c.vocab + 1); }},
  };
  for (const auto& [file, edit] : edits) {
    GgufEdit e = m->edit;
    edit(e);
    const std::string path = scratch(file), errf = scratch("stderr");
    e.write_sparse(path);
    const std::string cmd = std::string("'") + ATTNLAB_BINARY +
                            "' generate --prompt hi -n 1 --model '" + path + "' >/dev/null 2>'" +
                            errf + "'";
    const int st = std::system(cmd.c_str());
    std::stringstream err;
    err << std::ifstream(errf).rdbuf();
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2) << file << ": " << err.str();
    EXPECT_NE(err.str().find(path + ": "), std::string::npos) << err.str();
    std::remove(path.c_str());
  }
}

}  // namespace
