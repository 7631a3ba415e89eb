// Memory and head-group formulas against figures worked out by hand from the model configs.
#include <gtest/gtest.h>

#include "core/scene/presets.h"
#include "core/views/head_groups.h"
#include "core/views/kv_memory.h"

namespace {

constexpr int64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

core::Scene preset(const char* name, core::Dtype dt = core::Dtype::FP16) {
  core::Scene s;
  EXPECT_TRUE(core::apply_preset(s, name));
  s.dtype = dt;
  return s;
}

TEST(KvMemory, PresetBytesPerToken) {
  // 2 (K and V) x layers x KV heads x head_dim x bytes.
  EXPECT_EQ(core::kv_bytes_per_token(preset("Mistral-7B"), 8), 131072);  // 2*32*8*128*2
  EXPECT_EQ(core::kv_bytes_per_token(preset("Llama-2-7B"), 32), 512 * KiB);
  EXPECT_EQ(core::kv_bytes_per_token(preset("Llama-2-70B"), 8), 320 * KiB);  // 2*80*8*128*2
  EXPECT_EQ(core::kv_bytes_per_token(preset("Mixtral-8x7B"), 8), 128 * KiB);
  EXPECT_EQ(core::kv_bytes_per_token(preset("SmolLM2-135M"), 3), 23040);  // 2*30*3*64*2
  EXPECT_EQ(core::kv_bytes_per_token(preset("Gemma-3-270M"), 1), 18432);  // 2*18*1*256*2
  EXPECT_EQ(core::kv_bytes_per_token(preset("Mistral-7B", core::Dtype::FP32), 8), 256 * KiB);
  EXPECT_EQ(core::kv_bytes_per_token(preset("Mistral-7B", core::Dtype::FP8), 8), 64 * KiB);
}

TEST(KvMemory, MistralRollingBufferCapsAt512MiB) {
  core::Scene s = preset("Mistral-7B");
  s.seq_len = 32768;
  const core::KvMemorySeries m = core::build_kv_memory(s);
  EXPECT_EQ(m.bytes_per_token, 128 * KiB);
  EXPECT_EQ(m.bytes_full, 4 * GiB);
  EXPECT_EQ(m.bytes_rolling, 512 * MiB);
  EXPECT_EQ(core::kv_bytes_rolling(s, 100, 8), 100 * 128 * KiB);  // below W nothing is dropped
  EXPECT_EQ(core::kv_bytes_rolling(s, 1 << 20, 8), 512 * MiB);
  s.batch = 4;
  EXPECT_EQ(core::build_kv_memory(s).bytes_rolling, 2 * GiB);
}

TEST(KvMemory, GemmaGlobalLayersKeepTheFullCache) {
  core::Scene s = preset("Gemma-3-270M");
  s.seq_len = 2048;
  // 15 local layers hold 512 tokens, 3 global layers hold 2048; 1024 B per layer and token.
  EXPECT_EQ(core::build_kv_memory(s).bytes_rolling, 1024 * (15 * 512 + 3 * 2048));
}

TEST(KvMemory, CurvesAndSamples) {
  core::Scene s = preset("Mistral-7B");
  s.seq_len = 10000;
  for (bool log : {false, true}) {
    s.log_scale = log;
    const core::KvMemorySeries m = core::build_kv_memory(s);
    ASSERT_EQ(m.curves.size(), 5u);  // MHA, GQA, MQA, rolling, MLA
    EXPECT_TRUE(std::is_sorted(m.x.begin(), m.x.end()));
    EXPECT_NE(std::find(m.x.begin(), m.x.end(), 10000), m.x.end());
    EXPECT_NE(std::find(m.x.begin(), m.x.end(), 4096), m.x.end());
    EXPECT_EQ(m.curves[0].bytes_at_seq_len, 10000LL * 512 * KiB);  // MHA: 32 KV heads
    EXPECT_EQ(m.curves[1].bytes_at_seq_len, 10000LL * 128 * KiB);
    EXPECT_EQ(m.curves[2].bytes_at_seq_len, 10000LL * 16 * KiB);  // MQA: 1 KV head
    EXPECT_EQ(m.curves[3].bytes_at_seq_len, 512 * MiB);
    for (size_t i = 0; i < m.x.size(); ++i)
      EXPECT_DOUBLE_EQ(m.curves[1].bytes[i], static_cast<double>(m.x[i]) * 128 * KiB);
  }
}

// The MLA line: (d_c + d_R) x layers x element bytes per token, worked by hand.
TEST(KvMemory, MlaLineForTheScenesModel) {
  // Mistral-7B (d_h 128) gets DeepSeek-V2's own d_c 512, d_R 64: 576 x 32 layers x 2 bytes.
  core::Scene s = preset("Mistral-7B");
  s.seq_len = 10000;
  EXPECT_EQ(s.mla.latent, 512);
  EXPECT_EQ(s.mla.rope_dim, 64);
  core::KvMemorySeries m = core::build_kv_memory(s);
  const core::KvCurve& mla = m.curves.back();
  ASSERT_EQ(mla.kind, core::KvCurveKind::Mla);
  EXPECT_EQ(mla.label, "MLA (d_c 512 + d_R 64)");
  EXPECT_EQ(mla.bytes_at_seq_len, 10000LL * 36864);  // 576 * 32 * 2 = 36 KiB per token
  EXPECT_EQ(m.bytes_mla, 10000LL * 36864);
  for (size_t i = 0; i < m.x.size(); ++i)
    EXPECT_DOUBLE_EQ(mla.bytes[i], static_cast<double>(m.x[i]) * 36864);
  // SmolLM2 (d_h 64): d_c = 4 d_h = 256, d_R = d_h / 2 = 32; 288 x 30 layers x 2 bytes =
  // 17,280 per token, between MQA (2*30*64*2 = 7,680) and its GQA (23,040).
  s = preset("SmolLM2-135M");
  s.seq_len = 1000;
  m = core::build_kv_memory(s);
  EXPECT_EQ(m.curves.back().label, "MLA (d_c 256 + d_R 32)");
  EXPECT_EQ(m.bytes_mla, 1000LL * 17280);
  // The scene's own keys win; batch multiplies like every other line.
  s.mla.latent = 100;
  s.mla.rope_dim = 28;
  s.batch = 3;
  s.dtype = core::Dtype::FP32;
  EXPECT_EQ(core::build_kv_memory(s).bytes_mla, 3LL * 1000 * 128 * 30 * 4);
  // DeepSeek-V2's published numbers: 69,120 bytes per token in bf16 (60 layers).
  s = preset("DeepSeek-V2", core::Dtype::BF16);
  s.seq_len = 1;
  EXPECT_EQ(core::build_kv_memory(s).bytes_mla, 69120);
}

TEST(KvMemory, FormatBytes) {
  EXPECT_EQ(core::format_bytes(128 * KiB), "128 KiB");
  EXPECT_EQ(core::format_bytes(512 * MiB), "512 MiB");
  EXPECT_EQ(core::format_bytes(1.5 * GiB), "1.50 GiB");
  EXPECT_EQ(core::format_bytes(1000), "1000 B");
}

TEST(HeadGroups, Llama70B) {
  const core::HeadGroups g = core::build_head_groups(preset("Llama-2-70B"));
  EXPECT_EQ(g.label, "GQA");
  EXPECT_EQ(g.group_size, 8);
  ASSERT_EQ(g.kv_head_of.size(), 64u);
  EXPECT_EQ(g.kv_head_of[7], 0);
  EXPECT_EQ(g.kv_head_of[8], 1);
  EXPECT_EQ(g.kv_head_of[63], 7);
  EXPECT_EQ(g.group_sizes, std::vector<int>(8, 8));
  EXPECT_EQ(g.kv_bytes_per_token, 320 * KiB);
  EXPECT_EQ(g.kv_bytes_per_token_mha, 2560 * KiB);
  EXPECT_EQ(g.kv_proj_params_per_layer, 2LL * 8192 * 1024);  // W_k, W_v: 8192 -> 8*128
  EXPECT_EQ(g.kv_proj_params_total, 80LL * 2 * 8192 * 1024);
}

TEST(HeadGroups, Labels) {
  core::Scene s = preset("Llama-2-7B");
  EXPECT_EQ(core::build_head_groups(s).label, "MHA");
  s.n_kv_heads = 1;
  const core::HeadGroups mqa = core::build_head_groups(s);
  EXPECT_EQ(mqa.label, "MQA");
  EXPECT_EQ(mqa.kv_head_of, std::vector<int>(32, 0));
  const core::HeadGroups smol = core::build_head_groups(preset("SmolLM2-135M"));
  EXPECT_EQ(smol.kv_head_of, (std::vector<int>{0, 0, 0, 1, 1, 1, 2, 2, 2}));
}

}  // namespace
