// MLA numbers against hand computations from the published DeepSeek configs
// (deepseek-ai/DeepSeek-V2 and -V3 config.json: hidden_size 5120 / 7168, 60 / 61 layers,
// 128 heads, kv_lora_rank 512, qk_rope_head_dim 64, qk_nope_head_dim = v_head_dim = 128),
// and the decode costs against a step-by-step count of the two computations.
#include <gtest/gtest.h>

#include "core/scene/presets.h"
#include "core/views/mla.h"

namespace {

core::Scene deepseek(const char* name) {
  core::Scene s;
  EXPECT_TRUE(core::apply_preset(s, name));
  s.dtype = core::Dtype::BF16;
  return s;
}

TEST(Mla, CacheBytesPerTokenMatchTheDeepSeekConfigs) {
  // V2: (512 + 64) x 60 layers x 2 bytes = 69,120; MHA 2 x 128 x 128 x 60 x 2 = 3,932,160.
  const core::MlaCosts v2 = core::build_mla_costs(deepseek("DeepSeek-V2"));
  EXPECT_EQ(v2.bytes_per_token_mla, 69120);
  EXPECT_EQ(v2.bytes_per_token_mha, 3932160);
  EXPECT_EQ(v2.bytes_per_token_mqa, 2 * 128 * 60 * 2);
  // V3: (512 + 64) x 61 x 2 = 70,272.
  const core::MlaCosts v3 = core::build_mla_costs(deepseek("DeepSeek-V3"));
  EXPECT_EQ(v3.bytes_per_token_mla, 70272);
  EXPECT_EQ(v3.bytes_per_token_mha, 2 * 128 * 128 * 61 * 2);
  // The paper's "equal to GQA with only 2.25 groups": (d_c + d_R) = 4.5 d_h = 2.25 x (2 d_h), MQA's
  // cost.
  EXPECT_EQ(v2.bytes_per_token_mla * 100, 225 * v2.bytes_per_token_mqa);
}

TEST(Mla, GqaLineUsesTheScenesKvHeads) {
  core::Scene s = deepseek("DeepSeek-V2");
  s.n_kv_heads = 8;
  const core::MlaCosts c = core::build_mla_costs(s);
  EXPECT_EQ(c.bytes_per_token_gqa, 2 * 8 * 128 * 60 * 2);
}

// Multiply-adds of the two decode computations, one loop per matrix product as it runs.
TEST(Mla, DecodeCostsMatchAStepByStepCount) {
  for (int t : {1, 17, 4096}) {
    core::Scene s = deepseek("DeepSeek-V2");
    s.seq_len = t;
    const core::MlaCosts c = core::build_mla_costs(s);
    const int64_t nh = 128, dh = 128, dc = 512, dr = 64;
    int64_t plain = 0, absorbed = 0;
    for (int64_t h = 0; h < nh; ++h) {
      plain += t * dc * dh;       // K_h = C W_UK,h for every cached latent
      plain += t * dc * dh;       // V_h = C W_UV,h
      plain += t * (dh + dr);     // q_h . [k_h; k_R]
      plain += t * dh;            // p V_h
      absorbed += dh * dc;        // q~_h = W_UK,h^T q_h
      absorbed += t * (dc + dr);  // q~_h . c + q_R . k_R
      absorbed += t * dc;         // p C
      absorbed += dc * dh;        // (p C) W_UV,h
    }
    EXPECT_EQ(c.flops_plain, 2 * plain) << t;
    EXPECT_EQ(c.flops_absorbed, 2 * absorbed) << t;
    const int64_t cache = t * (dc + dr), weights = 2 * nh * dh * dc;
    EXPECT_EQ(c.bytes_absorbed, (cache + weights) * 2);
    EXPECT_EQ(c.bytes_plain, (cache + weights + 2 * t * nh * 2 * dh) * 2);
    if (t > 1) {
      EXPECT_LT(c.flops_absorbed, c.flops_plain);
    }
  }
}

}  // namespace
