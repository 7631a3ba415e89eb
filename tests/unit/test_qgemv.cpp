// Matrix-vector products from quantized blocks (core/model/qgemv.h) against dequantize()
// (itself checked against the gguf Python package in test_dequant) followed by a double dot.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "core/model/dequant.h"
#include "core/model/forward.h"
#include "core/model/qgemv.h"

using core::model::QuantMatrix;
using core::model::TensorType;

namespace {

// Reference row products in double; `mag` gets Σ|w x| per row, the scale of rounding error.
void reference(const QuantMatrix& m, const float* x, std::vector<double>& y,
               std::vector<double>& mag) {
  std::vector<float> row(m.cols);
  y.assign(m.rows, 0.0);
  mag.assign(m.rows, 0.0);
  for (int r = 0; r < m.rows; ++r) {
    core::model::dequantize(m.type, m.data + r * m.row_bytes, row.data(), m.cols);
    for (int c = 0; c < m.cols; ++c) {
      y[r] += static_cast<double>(row[c]) * x[c];
      mag[r] += std::fabs(static_cast<double>(row[c]) * x[c]);
    }
  }
}

void expect_matches(const QuantMatrix& m, const std::vector<float>& x, const char* what) {
  std::vector<float> xsum(m.cols / 32), y(m.rows);
  core::model::qgemv_prepare(m, x.data(), xsum.data());
  // Two calls over halves, as the pool splits rows.
  core::model::qgemv_rows(m, x.data(), xsum.data(), y.data(), 0, m.rows / 2);
  core::model::qgemv_rows(m, x.data(), xsum.data(), y.data(), m.rows / 2, m.rows);
  std::vector<double> ref, mag;
  reference(m, x.data(), ref, mag);
  // Float64 reference; a float32 dot of n terms is within n * 2^-24 * sum|w x| (n <= 2048
  // here gives 1.2e-4 worst case; sums in 8-32 lanes make it ~sqrt(n) of that, < 1e-5).
  for (int r = 0; r < m.rows; ++r)
    ASSERT_NEAR(y[r], ref[r], 1e-5 * mag[r] + 1e-30) << what << " row " << r;
}

// Finite positive halves in [2^-8, 2): exponent 7..15, random mantissa.
uint16_t random_half(std::mt19937& rng) {
  return static_cast<uint16_t>(((7 + rng() % 9) << 10) | (rng() & 0x3ff));
}

std::vector<uint8_t> random_blocks(TensorType t, int rows, int cols, std::mt19937& rng) {
  const int bytes = t == TensorType::Q4_1 ? 20 : t == TensorType::Q5_0 ? 22 : 34;
  std::vector<uint8_t> out(static_cast<size_t>(rows) * cols / 32 * bytes);
  for (size_t b = 0; b < out.size(); b += bytes) {
    for (int i = 0; i < bytes; ++i) out[b + i] = static_cast<uint8_t>(rng());
    uint16_t d = random_half(rng);
    std::memcpy(&out[b], &d, 2);
    if (t == TensorType::Q4_1) {
      uint16_t m = random_half(rng) | 0x8000;  // a negative offset, as real Q4_1 minima are
      std::memcpy(&out[b + 2], &m, 2);
    }
  }
  return out;
}

}  // namespace

TEST(Qgemv, RandomBlocksMatchDequantize) {
  std::mt19937 rng(42);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  for (TensorType t : {TensorType::Q4_1, TensorType::Q5_0, TensorType::Q8_0}) {
    const int rows = 37, cols = 32 * 20;
    const std::vector<uint8_t> blocks = random_blocks(t, rows, cols, rng);
    QuantMatrix m;
    m.type = t;
    m.rows = rows;
    m.cols = cols;
    m.row_bytes = blocks.size() / rows;
    m.data = blocks.data();
    std::vector<float> x(cols);
    for (float& v : x) v = gauss(rng);
    expect_matches(m, x, core::model::tensor_type_name(t));
  }
}

TEST(Qgemv, SupportedTypes) {
  EXPECT_TRUE(core::model::qgemv_supported(TensorType::Q4_1, 576));
  EXPECT_TRUE(core::model::qgemv_supported(TensorType::Q8_0, 640));
  EXPECT_FALSE(core::model::qgemv_supported(TensorType::Q4_K, 1024));  // f32 fallback
  EXPECT_FALSE(core::model::qgemv_supported(TensorType::Q8_0, 48));    // not whole blocks
}

// Every quantized matrix of both real models: the first 64 rows against dequantize().
TEST(Qgemv, RealTensorsMatchDequantize) {
  int checked = 0;
  for (const char* name : {"smollm2", "gemma3"}) {
    const std::string path = core::model::resolve_model_path(name);
    if (!std::filesystem::exists(path)) continue;
    core::model::GgufFile f(path);
    std::mt19937 rng(3);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    for (const core::model::TensorInfo& t : f.tensors()) {
      QuantMatrix m = core::model::quant_matrix(t);
      if (!m.data || m.type == TensorType::F32) continue;
      m.rows = std::min(m.rows, 64);
      std::vector<float> x(m.cols);
      for (float& v : x) v = gauss(rng);
      expect_matches(m, x, t.name.c_str());
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no model downloaded (run scripts/setup)";
  EXPECT_GT(checked, 100);
}
