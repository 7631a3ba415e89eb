// The feed-forward block's gated activations (core/model/activations.h) against the same
// formulas evaluated in double from the same float inputs.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/attention/cpu_isa.h"
#include "core/model/activations.h"

namespace {

constexpr double kUlp = 1.0 / (1 << 23);  // 2^-23, the spacing of floats in [1, 2)

// Gate values over the range a feed-forward block sees and past it, in steps of 1/64, so
// every branch of the exp (tiny, saturated, ordinary) runs; up = 1 and up = -0.75 alternate.
std::vector<float> gates() {
  std::vector<float> g;
  for (int i = -40 * 64; i <= 40 * 64; ++i) g.push_back(static_cast<float>(i) / 64.0f);
  return g;
}

// The gates, the up values, and what `gated(gate, up, n)` wrote over the gates.
struct Gated {
  std::vector<float> in, up, out;
};

Gated run(void (*gated)(float*, const float*, size_t)) {
  Gated r;
  r.in = gates();
  for (size_t i = 0; i < r.in.size(); ++i) r.up.push_back(i % 2 ? -0.75f : 1.0f);
  r.out = r.in;
  gated(r.out.data(), r.up.data(), r.out.size());
  return r;
}

TEST(Activations, SiluMulMatchesDouble) {
  const Gated r = run(core::model::silu_mul);
  const std::vector<float>&in = r.in, &up = r.up, &g = r.out;
  for (size_t i = 0; i < g.size(); ++i) {
    const double x = in[i];
    const double ref = x / (1.0 + std::exp(-x)) * up[i];
    // expf is within 1 ulp; 1 + e, the quotient and the product round once each (0.5 ulp):
    // 2.5 ulp of the result, 4 with margin for the two-ulp spacing across a power of two.
    EXPECT_NEAR(g[i], ref, 4 * kUlp * std::fabs(ref) + 1e-37) << "g = " << in[i];
  }
}

// Runs fn(x, y, n) under every kernel path this CPU has; counts the outputs whose bits differ
// from want (NaN matches NaN) and names the first.
template <typename Fn>
void expect_bits_on_every_path(const std::vector<float>& in, const std::vector<float>& want,
                               Fn&& fn) {
  for (core::Isa isa : {core::Isa::Avx512, core::Isa::Avx2, core::Isa::Scalar}) {
    if (isa > core::best_isa()) continue;
    const core::Isa before = core::current_isa();
    core::force_isa(isa);
    std::vector<float> got(in.size());
    fn(in, got);
    core::force_isa(before);
    size_t differ = 0, first = 0;
    for (size_t i = 0; i < got.size(); ++i)
      if (std::bit_cast<uint32_t>(got[i]) != std::bit_cast<uint32_t>(want[i]) &&
          !(std::isnan(got[i]) && std::isnan(want[i])))
        first = differ++ ? first : i;
    EXPECT_EQ(differ, 0u) << core::isa_name(isa) << ": first at " << in[first] << ": " << got[first]
                          << " instead of " << want[first];
  }
}

// Every 251st float bit pattern (17 M values: both signs, subnormals, |x| >= 87, infinities
// and NaNs among them) and the two x in (-87, 87) where an unfused reduction (r = z - k
// rounded twice instead of one fma) changes expf's bits.
std::vector<float> exp_inputs() {
  std::vector<float> in = {0x1.04845ep+5f, -0x1.f8cbb2p+5f};
  for (uint64_t u = 0; u < (uint64_t{1} << 32); u += 251)
    in.push_back(std::bit_cast<float>(static_cast<uint32_t>(u)));
  return in;
}

// expf_array gives libm's bits on every path (the AVX-512 one computes them itself; checked
// here once for every float with |x| < 87).
TEST(Activations, ExpfArrayGivesLibmBitsOnEveryPath) {
  const std::vector<float> in = exp_inputs();
  std::vector<float> want(in.size());
  for (size_t i = 0; i < in.size(); ++i) want[i] = expf(in[i]);
  expect_bits_on_every_path(in, want, [](const std::vector<float>& x, std::vector<float>& y) {
    core::model::expf_array(x.data(), y.data(), x.size());
  });
}

// The exact SwiGLU gives the bits of the scalar formula with libm's expf on every path.
TEST(Activations, SiluMulGivesLibmBitsOnEveryPath) {
  const std::vector<float> in = exp_inputs();
  std::vector<float> up, want(in.size());
  for (size_t i = 0; i < in.size(); ++i) up.push_back(i % 2 ? -0.75f : 1.0f);
  for (size_t i = 0; i < in.size(); ++i) want[i] = in[i] / (1.0f + expf(-in[i])) * up[i];
  expect_bits_on_every_path(in, want, [&](const std::vector<float>& x, std::vector<float>& y) {
    y = x;
    core::model::silu_mul(y.data(), up.data(), y.size());
  });
}

TEST(Activations, GeluTanhMulMatchesDouble) {
  const Gated r = run(core::model::gelu_tanh_mul);
  const std::vector<float>&in = r.in, &up = r.up, &g = r.out;
  for (size_t i = 0; i < g.size(); ++i) {
    const double x = in[i];
    const double u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
    // 0.5 x (1 + tanh u) = x / (1 + e^(-2u)) exactly; the tanh form cancels in double too
    // (1 + tanh u keeps ~1e-16 / e^(2u) of its bits for u < 0), so the reference is this one.
    const double ref = x / (1.0 + std::exp(-2.0 * u)) * up[i];
    // u rounds seven times in float (two constants, five operations): 3.5 ulp, and e^(-2u)
    // turns a relative error d of u into 2|u| d of the result: 7|u| ulp; then the exp (1 ulp)
    // and five roundings: 6 ulp. Below u = -44 exp_poly saturates at e^88.3, so the result is
    // at most 40 e^-88.3 instead of ~0: that absolute bound is added.
    const double saturated = 40.0 * std::exp(-88.3);
    EXPECT_NEAR(g[i], ref, (6 + 7 * std::fabs(u)) * kUlp * std::fabs(ref) + saturated)
        << "g = " << in[i];
  }
}

}  // namespace
