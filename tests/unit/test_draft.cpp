// The bf16 draft precision (core/model/qgemm_bf16.h): the GEMM against a float64 reference,
// on every draft path this CPU has, and the draft forward pass against the exact one on the
// golden prompts (tests/golden/forward_*.json).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <vector>

#include "core/model/dequant.h"
#include "core/model/forward.h"
#include "core/model/qgemm.h"
#include "core/model/qgemm_bf16.h"
#include "core/model/qgemm_int8.h"

using core::model::DraftPath;
using core::model::Int8Path;
using core::model::Precision;
using core::model::QuantMatrix;

namespace {

// bf16 keeps 8 significant bits: round to nearest has unit roundoff u = 2^-8.
constexpr double kBf16U = 1.0 / 256;
// Measured on the golden prompts (both draft paths, Sapphire Rapids, `build/tests/test_draft`
// prints it): the draft moves a next-token logit by at most 2.0% of the max |logit| and an
// attention probability by at most 0.022. Both bounds are 16 u = 0.0625, about 3x those.
constexpr double kDraftLogitRel = 16 * kBf16U;
constexpr double kDraftProbAbs = 16 * kBf16U;
// The int8 draft, measured the same way: a logit moves by at most 9.1% of the max |logit|
// (Gemma-3) and a probability by at most 0.079 (SmolLM2); the bounds are about 2x those.
// Both int8 paths give identical numbers, so the figures do not depend on the CPU.
constexpr double kInt8LogitRel = 0.2;
constexpr double kInt8ProbAbs = 0.15;

// Runs `check` on every draft path this CPU has (emulated, AVX-512 BF16).
template <typename Fn>
void on_every_draft_path(Fn&& check) {
  for (DraftPath p : {DraftPath::Emulated, DraftPath::Avx512Bf16}) {
    if (p > core::model::best_draft_path()) continue;
    const Int8Path ip = p == DraftPath::Emulated ? Int8Path::Scalar : core::model::best_int8_path();
    core::model::force_draft_path(p);
    core::model::force_int8_path(ip);
    SCOPED_TRACE(std::string(core::model::draft_path_name(p)) + ", " +
                 core::model::int8_path_name(ip));
    check();
  }
  core::model::force_draft_path(core::model::best_draft_path());
  core::model::force_int8_path(core::model::best_int8_path());
}

// y[T, rows] of the draft GEMM on the current path.
std::vector<float> draft_gemm(const QuantMatrix& m, const std::vector<float>& x, int t_count) {
  std::vector<float> y(static_cast<size_t>(t_count) * m.rows, NAN);
  const int panels = (m.rows + 31) / 32;
  if (core::model::current_draft_path() == DraftPath::Avx512Bf16) {
    std::vector<uint16_t> xp;
    core::model::pack_x_bf16(x.data(), t_count, m.cols, xp);
    core::model::qgemm_panels_bf16(m, xp.data(), t_count, y.data(), 0, panels);
  } else {
    std::vector<float> xp;
    core::model::pack_x(x.data(), t_count, m.cols, xp, true);
    core::model::qgemm_panels(m, xp.data(), t_count, y.data(), 0, panels, true);
  }
  return y;
}

}  // namespace

TEST(DraftBf16, RoundsToNearestEven) {
  EXPECT_EQ(core::model::to_bf16(1.0f), 0x3f80);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even code (1.0).
  EXPECT_EQ(core::model::round_bf16(1.0f + 1.0f / 256), 1.0f);
  EXPECT_EQ(core::model::round_bf16(1.0f + 3.0f / 256), 1.0f + 4.0f / 256);
  EXPECT_EQ(core::model::round_bf16(-1.0f - 1.0f / 512), -1.0f);
  EXPECT_TRUE(std::isnan(core::model::round_bf16(NAN)));
  EXPECT_EQ(core::model::round_bf16(INFINITY), INFINITY);
}

// Random f32 weights (any quant type reaches the same kernel after dequantizing a panel),
// chunk sizes around the 12-row tiles and a last panel narrower than 32 columns.
TEST(DraftBf16, GemmMatchesFloat64Reference) {
  std::mt19937 rng(5);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  const int rows = 45, cols = 576;
  std::vector<float> w(static_cast<size_t>(rows) * cols);
  for (float& v : w) v = gauss(rng);
  const QuantMatrix m = core::model::f32_matrix(w.data(), rows, cols);
  for (int n_t : {2, 12, 13, 31}) {
    std::vector<float> x(static_cast<size_t>(n_t) * cols);
    for (float& v : x) v = gauss(rng);
    on_every_draft_path([&] {
      const std::vector<float> y = draft_gemm(m, x, n_t);
      for (int t = 0; t < n_t; ++t)
        for (int r = 0; r < rows; ++r) {
          double rounded = 0, exact = 0, mag = 0;
          for (int k = 0; k < cols; ++k) {
            const float a = x[static_cast<size_t>(t) * cols + k],
                        b = w[static_cast<size_t>(r) * cols + k];
            rounded += static_cast<double>(core::model::round_bf16(a)) * core::model::round_bf16(b);
            exact += static_cast<double>(a) * b;
            mag += std::fabs(static_cast<double>(a) * b);
          }
          const double got = y[static_cast<size_t>(t) * rows + r];
          // Against the rounded operands only the f32 sum differs: the probabilistic bound
          // ~sqrt(n) 2^-24 sum|w x| (Higham & Mary 2019) is 1.4e-6 of mag for n = 576; 1e-5
          // as in test_qgemv.
          ASSERT_NEAR(got, rounded, 1e-5 * mag) << "T=" << n_t << " row " << t << " col " << r;
          // Against the unrounded operands: each product of two operands rounded with unit
          // roundoff u is within (2u + u^2) of its value (the standard rounding model), plus
          // the f32 sum above.
          ASSERT_NEAR(got, exact, (2 * kBf16U + kBf16U * kBf16U + 1e-5) * mag)
              << "T=" << n_t << " row " << t << " col " << r;
        }
    });
  }
}

namespace {

std::vector<int> top_ids(const float* z, int vocab, int k) {
  std::vector<int> idx(vocab);
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int a, int b) { return z[a] > z[b]; });
  idx.resize(k);
  return idx;
}

std::vector<int> sorted_top(const float* z, int vocab, int k) {
  std::vector<int> ids = top_ids(z, vocab, k);
  std::sort(ids.begin(), ids.end());
  return ids;
}

void check_golden_draft(const std::string& name, Precision prec) {
  const std::string golden = std::string(ATTNLAB_GOLDEN_DIR) + "/forward_" + name + ".json";
  std::ifstream f(golden);
  ASSERT_TRUE(f) << "missing " << golden;
  const nlohmann::json g = nlohmann::json::parse(f);
  const std::string path = core::model::resolve_model_path(g["model"].get<std::string>());
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "model not downloaded: " << path;
  const auto m = core::model::Model::load(path);
  const int vocab = m->config().vocab;
  auto body = [&] {
    double worst_dp = 0, worst_logit = 0;
    int top5_same = 0, cases = 0;
    for (const nlohmann::json& c : g["cases"]) {
      const auto ids = c["ids"].get<std::vector<int32_t>>();
      core::model::RunOptions o;
      o.capture.cache = false;
      core::model::Session exact(m, o);
      o.precision = prec;
      core::model::Session draft(m, o);
      const std::vector<float> le = exact.prefill(ids), ld = draft.prefill(ids);
      const float max_logit = std::fabs(le[top_ids(le.data(), vocab, 1)[0]]);
      double dl = 0;
      for (int v = 0; v < vocab; ++v) dl = std::max(dl, std::fabs(double(le[v]) - ld[v]));
      worst_logit = std::max(worst_logit, dl / max_logit);
      const bool same_set = sorted_top(le.data(), vocab, 5) == sorted_top(ld.data(), vocab, 5);
      // Both drafts keep the exact pass's five most likely next tokens (the same ids; a
      // near-tie may swap two of them).
      EXPECT_TRUE(same_set) << name << ": \"" << c["prompt"].get<std::string>() << "\"";
      top5_same += same_set;
      ++cases;
      const auto& a = exact.capture().attention;
      const auto& b = draft.capture().attention;
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i)
        for (size_t j = 0; j < a[i].p.size(); ++j)
          worst_dp = std::max(worst_dp, std::fabs(double(a[i].p[j]) - b[i].p[j]));
    }
    const bool int8 = prec == Precision::DraftInt8;
    std::printf(
        "[%s %s, %s] next-token top-5 ids the same %d / %d, max |dlogit| %.4f of max "
        "|logit|, attention max |dp| %.4f\n",
        core::model::precision_name(prec), name.c_str(),
        int8 ? core::model::int8_path_name(core::model::current_int8_path())
             : core::model::draft_path_name(core::model::current_draft_path()),
        top5_same, cases, worst_logit, worst_dp);
    EXPECT_LE(worst_logit, int8 ? kInt8LogitRel : kDraftLogitRel) << name;
    EXPECT_LE(worst_dp, int8 ? kInt8ProbAbs : kDraftProbAbs) << name;
  };
  // The int8 paths agree bit for bit (DraftInt8.GemmMatchesFloat64Reference): one run does.
  if (prec == Precision::DraftInt8)
    body();
  else
    on_every_draft_path(body);
}

// The int8 product of x [n_t, w.cols] with w's first two panels on the best int8 path,
// after checking that the scalar path gives the same bits (exact int32 sums, the same f32
// steps).
std::vector<float> int8_on_both_paths(const QuantMatrix& w, const std::vector<float>& x, int n_t) {
  core::model::Int8X xp;
  core::model::pack_x_int8(x.data(), n_t, w.cols, xp);
  std::vector<float> y_fast(static_cast<size_t>(n_t) * w.rows), y_scalar(y_fast.size());
  core::model::Int8Weights pw;
  for (int p = 0, n = core::model::size_int8_weights(w, pw); p < n; ++p)
    core::model::pack_int8_panel(w, pw, p);
  core::model::qgemm_panels_int8(w, pw, xp, n_t, y_fast.data(), 0, 2);
  core::model::force_int8_path(Int8Path::Scalar);
  core::model::qgemm_panels_int8(w, pw, xp, n_t, y_scalar.data(), 0, 2);
  core::model::force_int8_path(core::model::best_int8_path());
  EXPECT_EQ(y_fast, y_scalar) << core::model::int8_path_name(core::model::best_int8_path());
  return y_fast;
}

}  // namespace

TEST(DraftForward, SmolLM2GoldenPromptsBf16) {
  check_golden_draft("smollm2", Precision::DraftBf16);
}

TEST(DraftForward, Gemma3GoldenPromptsBf16) {
  check_golden_draft("gemma3", Precision::DraftBf16);
}

TEST(DraftForward, SmolLM2GoldenPromptsInt8) {
  check_golden_draft("smollm2", Precision::DraftInt8);
}

TEST(DraftForward, Gemma3GoldenPromptsInt8) {
  check_golden_draft("gemma3", Precision::DraftInt8);
}

// Random f32 weights through the int8 GEMM: the VNNI path and the scalar one agree bit for bit
// (exact int32 sums, the same f32 steps), and both are within the rounding of the int8 codes
// of a float64 product of the unrounded operands.
TEST(DraftInt8, GemmMatchesFloat64Reference) {
  std::mt19937 rng(9);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  const int rows = 45, cols = 576, n_t = 13, blk = 32;
  std::vector<float> w(static_cast<size_t>(rows) * cols), x(static_cast<size_t>(n_t) * cols);
  for (float& v : w) v = gauss(rng);
  for (float& v : x) v = gauss(rng);
  const QuantMatrix m = core::model::f32_matrix(w.data(), rows, cols);
  const std::vector<float> y_fast = int8_on_both_paths(m, x, n_t);
  // Half the code step of each block: max |v| / 127 / 2.
  auto half_step = [&](const float* v, int k) {
    float amax = 0;
    for (int i = k / blk * blk; i < k / blk * blk + blk; ++i)
      amax = std::max(amax, std::fabs(v[i]));
    return amax / 254.0;
  };
  for (int t = 0; t < n_t; ++t)
    for (int r = 0; r < rows; ++r) {
      const float* xr = x.data() + static_cast<size_t>(t) * cols;
      const float* wr = w.data() + static_cast<size_t>(r) * cols;
      double exact = 0, bound = 0, mag = 0;
      for (int k = 0; k < cols; ++k) {
        const double ex = half_step(xr, k), ew = half_step(wr, k);
        exact += static_cast<double>(xr[k]) * wr[k];
        mag += (std::fabs(xr[k]) + ex) * (std::fabs(wr[k]) + ew);
        // |x^ w^ - x w| <= |x^ - x| |w^| + |x| |w^ - w| for codes rounded to the nearest step.
        bound += ex * (std::fabs(wr[k]) + ew) + std::fabs(xr[k]) * ew;
      }
      // Plus the f32 sums over the blocks (the bound of test_qgemv, 1e-5 of the magnitude).
      ASSERT_NEAR(y_fast[static_cast<size_t>(t) * rows + r], exact, bound + 1e-5 * mag)
          << "row " << t << " col " << r;
    }
}

// x's int8 blocks are the same on every instruction set: the AVX-512 rounding does
// quantize_block_scalar's float operations and both sum a block in the same tree, so the
// draft's figures do not depend on the CPU. Checked against the scalar code with the block
// sums recomputed here in that order, rows past T included.
TEST(DraftInt8, XBlocksAreTheSameOnEveryIsa) {
  std::mt19937 rng(11);
  std::normal_distribution<float> gauss(0.0f, 3.0f);
  const int cols = 640, n_t = 17;
  std::vector<float> x(static_cast<size_t>(n_t) * cols);
  for (float& v : x) v = gauss(rng);
  core::model::Int8X best, scalar;
  core::model::pack_x_int8(x.data(), n_t, cols, best);
  core::force_isa(core::Isa::Scalar);
  core::model::pack_x_int8(x.data(), n_t, cols, scalar);
  core::force_isa(core::best_isa());
  EXPECT_EQ(best.q, scalar.q) << core::isa_name(core::best_isa());
  EXPECT_EQ(best.scale, scalar.scale);
  EXPECT_EQ(best.sum, scalar.sum);
  // Tile 1, row 2 (x row 8), block 3: the sum in the documented order.
  const float* v = x.data() + 8 * cols + 3 * 32;
  float t[16];
  for (int i = 0; i < 16; ++i) t[i] = v[i] + v[i + 16];
  for (int w = 8; w >= 1; w /= 2)
    for (int i = 0; i < w; ++i) t[i] += t[i + w];
  EXPECT_EQ(best.sum[(1 * (cols / 32) + 3) * 6 + 2], t[0]);
  double exact = 0;
  for (int i = 0; i < 32; ++i) exact += v[i];
  // Float64 reference: a 32-term f32 sum is within 31 roundings of its magnitude.
  double mag = 0;
  for (int i = 0; i < 32; ++i) mag += std::fabs(v[i]);
  EXPECT_NEAR(t[0], exact, 31 * 0x1p-24 * mag);
}

// The draft is a separate option: a default RunOptions is exact.
TEST(DraftForward, DefaultIsExact) {
  EXPECT_EQ(core::model::RunOptions{}.precision, Precision::Exact);
}

// W's own int8 codes (Q4_0, Q4_1, Q5_0, Q8_0 blocks go in as they are): only x is rounded, so
// each product is within x's rounding of the float64 product with the dequantized W
// (dequantize() is checked against gguf-py, test_dequant), and the paths agree bit for bit.
TEST(DraftInt8, ExactWeightCodesMatchFloat64Reference) {
  std::mt19937 rng(5);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  const int rows = 45, cols = 256, n_t = 13, blk = 32;
  for (core::model::TensorType type :
       {core::model::TensorType::Q4_0, core::model::TensorType::Q4_1, core::model::TensorType::Q5_0,
        core::model::TensorType::Q8_0}) {
    core::model::TypeTraits tt;
    core::model::tensor_type_traits(static_cast<uint32_t>(type), &tt);
    SCOPED_TRACE(tt.name);
    std::vector<uint8_t> blocks(static_cast<size_t>(rows) * cols / blk * tt.block_bytes);
    for (uint8_t& b : blocks) b = static_cast<uint8_t>(rng());
    for (size_t o = 0; o < blocks.size(); o += tt.block_bytes) {
      const uint16_t d = static_cast<uint16_t>(0x2000 | (rng() & 0x3ff));  // 2^-7 .. 2^-6
      std::memcpy(&blocks[o], &d, 2);
      const uint16_t m = static_cast<uint16_t>(0xa000 | (rng() & 0x3ff));  // a negative min
      if (type == core::model::TensorType::Q4_1) std::memcpy(&blocks[o + 2], &m, 2);
    }
    QuantMatrix w;
    w.type = type;
    w.rows = rows;
    w.cols = cols;
    w.block_elems = blk;
    w.row_bytes = blocks.size() / rows;
    w.data = blocks.data();
    std::vector<float> x(static_cast<size_t>(n_t) * cols), wd(static_cast<size_t>(rows) * cols);
    for (float& v : x) v = gauss(rng);
    for (int r = 0; r < rows; ++r)
      core::model::dequantize(type, blocks.data() + r * w.row_bytes, wd.data() + r * cols, cols);
    const std::vector<float> y_fast = int8_on_both_paths(w, x, n_t);
    for (int t = 0; t < n_t; ++t)
      for (int r = 0; r < rows; ++r) {
        const float* xr = x.data() + static_cast<size_t>(t) * cols;
        const float* wr = wd.data() + static_cast<size_t>(r) * cols;
        double exact = 0, bound = 0, mag = 0;
        for (int k = 0; k < cols; ++k) {
          float amax = 0;  // x's block: codes rounded to half a step, max |x| / 254
          for (int i = k / blk * blk; i < k / blk * blk + blk; ++i)
            amax = std::max(amax, std::fabs(xr[i]));
          exact += static_cast<double>(xr[k]) * wr[k];
          mag += std::fabs(static_cast<double>(xr[k]) * wr[k]);
          bound += amax / 254.0 * std::fabs(wr[k]);
        }
        // Plus the f32 steps (1e-5 of the magnitude, as in test_qgemv; Q4_1's folded offset
        // m + 8 d is one of them).
        ASSERT_NEAR(y_fast[static_cast<size_t>(t) * rows + r], exact, bound + 1e-5 * mag)
            << "row " << t << " col " << r;
      }
  }
}
