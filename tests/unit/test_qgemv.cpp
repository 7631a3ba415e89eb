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
#include "core/model/qgemm.h"
#include "core/model/qgemv.h"

using core::model::Isa;
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
    // f32 sums of n <= 2048 products: the probabilistic rounding bound (Higham & Mary 2019)
    // is ~sqrt(n) * 2^-24 * sum|w x| <= 2.7e-6 of mag; 1e-5 is ~4x that.
    ASSERT_NEAR(y[r], ref[r], 1e-5 * mag[r] + 1e-30) << what << " row " << r;
}

// Runs `check` once on every kernel path this CPU has (portable, AVX2, AVX-512), so one
// machine checks them all; the best path is restored afterwards.
template <typename Fn>
void on_every_isa(Fn&& check) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (isa > core::model::best_isa()) continue;
    core::model::force_isa(isa);
    SCOPED_TRACE(core::model::isa_name(isa));
    check();
  }
  core::model::force_isa(core::model::best_isa());
}

// Finite positive halves in [2^-8, 2): exponent 7..15, random mantissa.
uint16_t random_half(std::mt19937& rng) {
  return static_cast<uint16_t>(((7 + rng() % 9) << 10) | (rng() & 0x3ff));
}

// Random codes and scales; the f16 scales are finite (d at byte 0, Q6_K's at byte 208).
std::vector<uint8_t> random_blocks(TensorType t, int rows, int cols, std::mt19937& rng) {
  core::model::TypeTraits tt;
  core::model::tensor_type_traits(static_cast<uint32_t>(t), &tt);
  const int bytes = tt.block_bytes;
  std::vector<uint8_t> out(static_cast<size_t>(rows) * cols / tt.block_elems * bytes);
  for (size_t b = 0; b < out.size(); b += bytes) {
    for (int i = 0; i < bytes; ++i) out[b + i] = static_cast<uint8_t>(rng());
    uint16_t d = random_half(rng);
    std::memcpy(&out[b + (t == TensorType::Q6_K ? 208 : 0)], &d, 2);
    if (t == TensorType::Q4_K || t == TensorType::Q5_K) {
      uint16_t dmin = random_half(rng);
      std::memcpy(&out[b + 2], &dmin, 2);
    }
    if (t == TensorType::Q4_1) {
      uint16_t m = random_half(rng) | 0x8000;  // a negative offset, as real Q4_1 minima are
      std::memcpy(&out[b + 2], &m, 2);
    }
  }
  return out;
}

QuantMatrix matrix_of(TensorType t, const std::vector<uint8_t>& blocks, int rows, int cols) {
  core::model::TypeTraits tt;
  core::model::tensor_type_traits(static_cast<uint32_t>(t), &tt);
  QuantMatrix m;
  m.type = t;
  m.rows = rows;
  m.cols = cols;
  m.block_elems = tt.block_elems;
  m.row_bytes = blocks.size() / rows;
  m.data = blocks.data();
  return m;
}

}  // namespace

TEST(Qgemv, RandomBlocksMatchDequantize) {
  std::mt19937 rng(42);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  for (TensorType t : {TensorType::Q4_1, TensorType::Q5_0, TensorType::Q8_0, TensorType::Q4_K,
                       TensorType::Q6_K, TensorType::Q5_K}) {
    const int rows = 37, cols = 256 * 3;
    const std::vector<uint8_t> blocks = random_blocks(t, rows, cols, rng);
    QuantMatrix m = matrix_of(t, blocks, rows, cols);
    std::vector<float> x(cols);
    for (float& v : x) v = gauss(rng);
    on_every_isa([&] { expect_matches(m, x, core::model::tensor_type_name(t)); });
  }
}

// The prefill GEMM (qgemm.h) against the same double reference, row by row of x, for chunk
// sizes around the kernel's 12-row tiles and a last panel narrower than 32 columns.
TEST(Qgemm, RandomBlocksMatchDequantize) {
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  core::model::ThreadPool pool(2);
  for (TensorType t :
       {TensorType::Q4_1, TensorType::Q5_0, TensorType::Q8_0, TensorType::Q4_K, TensorType::Q6_K}) {
    const int rows = 45, cols = 256 * 2;
    const std::vector<uint8_t> blocks = random_blocks(t, rows, cols, rng);
    const QuantMatrix m = matrix_of(t, blocks, rows, cols);
    for (int n_t : {2, 12, 13, 31}) {
      std::vector<float> x(static_cast<size_t>(n_t) * cols), y(static_cast<size_t>(n_t) * rows);
      for (float& v : x) v = gauss(rng);
      on_every_isa([&] {
        std::fill(y.begin(), y.end(), NAN);
        core::model::qgemm(m, x.data(), n_t, y.data(), pool);
        for (int i = 0; i < n_t; ++i) {
          std::vector<double> ref, mag;
          reference(m, x.data() + static_cast<size_t>(i) * cols, ref, mag);
          for (int r = 0; r < rows; ++r)
            // The same f32 rounding bound as expect_matches (one sum of n = 512 products).
            ASSERT_NEAR(y[static_cast<size_t>(i) * rows + r], ref[r], 1e-5 * mag[r] + 1e-30)
                << core::model::tensor_type_name(t) << " T=" << n_t << " x row " << i << " col "
                << r;
        }
      });
    }
  }
}

// Past one block of x's rows (516, qgemm_panels) and over several groups of panels per
// thread: every output still equals the double reference, and the pool's split (1 or 3
// threads) gives the same bits.
TEST(Qgemm, RowBlocksAndPanelGroupsMatchDequantize) {
  std::mt19937 rng(11);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  const int rows = 300, cols = 256 * 2, n_t = 530;  // 10 panels, the last 12 columns wide
  const std::vector<uint8_t> blocks = random_blocks(TensorType::Q4_K, rows, cols, rng);
  const QuantMatrix m = matrix_of(TensorType::Q4_K, blocks, rows, cols);
  std::vector<float> x(static_cast<size_t>(n_t) * cols);
  for (float& v : x) v = gauss(rng);
  std::vector<std::vector<double>> ref(n_t), mag(n_t);
  for (int i = 0; i < n_t; ++i)
    reference(m, x.data() + static_cast<size_t>(i) * cols, ref[i], mag[i]);
  on_every_isa([&] {
    std::vector<float> y1(static_cast<size_t>(n_t) * rows, NAN), y3 = y1;
    core::model::ThreadPool one(1), three(3);
    core::model::qgemm(m, x.data(), n_t, y1.data(), one);
    core::model::qgemm(m, x.data(), n_t, y3.data(), three);
    for (int i = 0; i < n_t; ++i)
      for (int r = 0; r < rows; ++r) {
        const size_t at = static_cast<size_t>(i) * rows + r;
        // The same f32 rounding bound as expect_matches (one sum of n = 512 products).
        ASSERT_NEAR(y1[at], ref[i][r], 1e-5 * mag[i][r] + 1e-30) << "x row " << i << " col " << r;
        ASSERT_EQ(y1[at], y3[at]) << "x row " << i << " col " << r;
      }
  });
}

// An f32 matrix in memory (pooled K/V heads): four-row groups, the rest one by one.
TEST(Qgemv, F32RowsMatchDouble) {
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  const int rows = 23, cols = 576;
  std::vector<float> w(static_cast<size_t>(rows) * cols), x(cols);
  for (float& v : w) v = gauss(rng);
  for (float& v : x) v = gauss(rng);
  const QuantMatrix m = core::model::f32_matrix(w.data(), rows, cols);
  on_every_isa([&] { expect_matches(m, x, "F32"); });
}

TEST(Qgemv, SupportedTypes) {
  EXPECT_TRUE(core::model::qgemv_supported(TensorType::Q4_1, 576));
  EXPECT_TRUE(core::model::qgemv_supported(TensorType::Q8_0, 640));
  EXPECT_TRUE(core::model::qgemv_supported(TensorType::Q4_K, 1024));
  EXPECT_FALSE(core::model::qgemv_supported(TensorType::Q4_K, 640));  // not whole blocks
  EXPECT_FALSE(core::model::qgemv_supported(TensorType::Q8_0, 48));   // not whole blocks
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
      on_every_isa([&] { expect_matches(m, x, t.name.c_str()); });
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no model downloaded (run scripts/setup)";
  EXPECT_GT(checked, 100);
}
