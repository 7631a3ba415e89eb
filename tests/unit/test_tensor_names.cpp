// The tensor-name table per architecture (core/model/tensor_names.h) against the real files:
// the names the table gives for a model's config are exactly the tensors the GGUF holds, no
// more and no fewer. The file's tensor list (written by llama.cpp's converter) is the
// independent reference.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "core/model/catalog.h"
#include "core/model/config.h"
#include "core/model/gguf.h"
#include "core/model/tensor_names.h"

namespace {

using namespace core::model;

// Every name the table gives for this config.
std::set<std::string> expected_names(const Config& c) {
  const TensorNames& n = tensor_names(c.arch);
  std::set<std::string> out = {n.token_embd, n.output_norm};
  if (!c.tied_embeddings) out.insert(n.output);
  for (int l = 0; l < c.n_layers; ++l)
    for (const char* t :
         {n.attn_norm, n.attn_q, n.attn_k, n.attn_v, n.attn_output, n.ffn_norm, n.ffn_gate,
          n.ffn_up, n.ffn_down, n.attn_q_norm, n.attn_k_norm, n.post_attn_norm, n.post_ffn_norm})
      if (t) out.insert(layer_tensor(l, t));
  return out;
}

TEST(TensorNames, LayerNamesCarryTheBlockPrefix) {
  EXPECT_EQ(layer_tensor(0, "attn_q.weight"), "blk.0.attn_q.weight");
  EXPECT_EQ(layer_tensor(17, tensor_names(Arch::Gemma3).post_ffn_norm),
            "blk.17.post_ffw_norm.weight");
}

TEST(TensorNames, OnlyGemmaHasQkAndPostNorms) {
  const TensorNames& llama = tensor_names(Arch::Llama);
  const TensorNames& gemma = tensor_names(Arch::Gemma3);
  EXPECT_EQ(llama.attn_q_norm, nullptr);
  EXPECT_EQ(llama.post_attn_norm, nullptr);
  EXPECT_STREQ(gemma.attn_q_norm, "attn_q_norm.weight");
  EXPECT_STREQ(gemma.post_attn_norm, "post_attention_norm.weight");
}

TEST(TensorNames, TableNamesExactlyTheTensorsOfEachDownloadedModel) {
  int checked = 0;
  for (const CatalogModel& m : model_catalog()) {
    const std::string path = resolve_model_path(m.name);
    if (!std::filesystem::exists(path)) continue;
    const GgufFile f(path);  // maps and reads the header only, no weights
    const Config c = read_config(f);
    std::set<std::string> in_file;
    for (const TensorInfo& t : f.tensors()) in_file.insert(t.name);
    EXPECT_EQ(expected_names(c), in_file) << m.name << " (" << arch_name(c.arch) << ")";
    // The config's optional parts follow the table.
    EXPECT_EQ(c.qk_norm, tensor_names(c.arch).attn_q_norm != nullptr);
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no catalog model is downloaded (run scripts/setup)";
}

}  // namespace
