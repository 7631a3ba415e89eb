// Our dequantizers against values the `gguf` Python package decoded from the same bytes
// (tests/golden/dequant.json, made by tests/golden/make_dequant_golden.py).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/attention/cpu_isa.h"
#include "core/model/dequant.h"

namespace {

std::vector<uint8_t> base64_decode(const std::string& s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::vector<uint8_t> out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = val(c);
    if (v < 0) continue;  // padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  return out;
}

nlohmann::json load_golden() {
  std::ifstream f(std::string(ATTNLAB_GOLDEN_DIR) + "/dequant.json");
  EXPECT_TRUE(f.good()) << "missing tests/golden/dequant.json";
  return nlohmann::json::parse(f);
}

}  // namespace

TEST(Dequant, MatchesGgufPython) {
  const nlohmann::json doc = load_golden();
  std::set<std::string> covered;
  for (const auto& c : doc["cases"]) {
    const std::string type = c["type"];
    SCOPED_TRACE(type + " from " + c["source"].get<std::string>());
    const auto id = c["type_id"].get<uint32_t>();
    core::model::TypeTraits tt;
    ASSERT_TRUE(core::model::tensor_type_traits(id, &tt));
    EXPECT_EQ(type, tt.name);
    const std::vector<uint8_t> raw = base64_decode(c["bytes_b64"]);
    const int64_t n = c["n"];
    ASSERT_EQ(raw.size(), static_cast<size_t>(n / tt.block_elems * tt.block_bytes));
    const auto& want = c["values"];
    // Every decoder path: the AVX-512 block decoders and the scalar ones.
    for (core::Isa isa : {core::Isa::Scalar, core::Isa::Avx2, core::Isa::Avx512}) {
      if (isa > core::best_isa()) continue;
      core::force_isa(isa);
      SCOPED_TRACE(core::isa_name(isa));
      std::vector<float> got(n);
      core::model::dequantize(static_cast<core::model::TensorType>(id), raw.data(), got.data(), n);
      int bad = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float w = want[i].get<float>();
        // Both sides compute d*q (+m) in f32 (gguf-py reference); one rounding step of a value
        // up to 8x larger than |w| (|d*q| before +m) is 8 * 2^-24 < 1e-6 relative.
        if (std::fabs(got[i] - w) > 1e-6f * std::max(1.0f, std::fabs(w)) && bad++ < 5)
          ADD_FAILURE() << "element " << i << ": got " << got[i] << ", want " << w;
      }
      EXPECT_EQ(bad, 0);
    }
    core::force_isa(core::best_isa());
    covered.insert(type);
  }
  for (const char* t : {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q4_K", "Q6_K"})
    EXPECT_TRUE(covered.count(t)) << "no golden case for " << t;
}

TEST(Dequant, HalfConversions) {
  EXPECT_EQ(core::model::f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(core::model::f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(core::model::f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(core::model::f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(core::model::f16_to_f32(0x7c00)));
  EXPECT_EQ(core::model::bf16_to_f32(0x3f80), 1.0f);
}

TEST(Dequant, RejectsUnsupportedTypeAndPartialBlocks) {
  std::vector<uint8_t> raw(256);
  std::vector<float> out(256);
  EXPECT_THROW(core::model::dequantize(core::model::TensorType::Q2_K, raw.data(), out.data(), 256),
               std::invalid_argument);
  EXPECT_THROW(core::model::dequantize(core::model::TensorType::Q4_0, raw.data(), out.data(), 31),
               std::invalid_argument);
}
