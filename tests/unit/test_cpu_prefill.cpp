// The tiled CPU attention for prefill chunks (core/attention/cpu_prefill.cpp): its results do
// not depend on the instruction set or the thread count (bit for bit), a ring and a growing
// cache give the same bits for a chunk long enough to take the tiled path, head dims that do
// not fill a vector match the float64 reference, tile::exp against float64 exp, and the band
// form of the masks (spec.h band_of) against visible(). test_backend_ops covers the rest of
// the CPU backend against the float64 reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/attention/cpu_attention.h"
#include "core/attention/cpu_isa.h"
#include "core/attention/cpu_tile_kernels.h"
#include "tests/unit/attention_reference.h"

namespace {

using attn_test::Case;
using attn_test::Layout;

using attn_test::IsaGuard;

Case make_case(int n_heads, int n_kv_heads, int hd, attn::MaskSpec mask, Layout layout, int n_prior,
               int n_q) {
  Case c;
  c.n_heads = n_heads;
  c.n_kv_heads = n_kv_heads;
  c.head_dim = hd;
  c.mask = mask;
  c.layout = layout;
  c.n_prior = n_prior;
  c.n_q = n_q;
  return c;
}

std::vector<Case> cases() {
  attn::MaskSpec causal, swa, sparse;
  swa.kind = attn::MaskKind::SlidingWindow;
  swa.window = 9;
  sparse.kind = attn::MaskKind::Sparse;
  sparse.sparse_global = 2;
  sparse.sparse_local = 5;
  sparse.sparse_random = 3;
  sparse.sparse_seed = 7;
  return {make_case(9, 3, 64, causal, Layout::None, 0, 150),
          make_case(6, 2, 40, swa, Layout::Full, 37, 70),
          make_case(4, 1, 256, sparse, Layout::Shuffled, 23, 40),
          make_case(4, 4, 24, causal, Layout::Full, 90, 20)};
}


using attn_test::cpu_bits;

TEST(CpuPrefill, EveryInstructionSetAndThreadCountGivesTheSameBits) {
  IsaGuard guard;
  for (const Case& c : cases()) {
    core::force_isa(core::Isa::Avx512);  // clamped to what this CPU has
    const std::vector<uint32_t> want = cpu_bits(c, 1);
    EXPECT_EQ(cpu_bits(c, 3), want) << c.head_dim << ": 3 threads";
    for (core::Isa isa : {core::Isa::Avx2, core::Isa::Scalar}) {
      core::force_isa(isa);
      EXPECT_EQ(cpu_bits(c, 2), want) << c.head_dim << ": " << core::isa_name(isa);
    }
  }
}

// The tiled path cuts tiles from the keys a block of queries sees, in position order, so a
// ring holding every key the window reaches gives the growing cache's bits.
TEST(CpuPrefill, RingEqualsFullCacheForALongChunk) {
  for (auto conv :
       {attn::WindowConvention::IncludingSelf, attn::WindowConvention::SelfPlusPrevious}) {
    attn::MaskSpec swa;
    swa.kind = attn::MaskKind::SlidingWindow;
    swa.window = 6;
    swa.convention = conv;
    Case full = make_case(9, 3, 64, swa, Layout::Full, 40, 3 * core::kPrefillMinQueries);
    Case ring = full;
    ring.layout = Layout::Ring;
    ring.ring = 7;  // the 7 keys before the chunk: enough for either convention
    attn_test::Inputs a = attn_test::make_inputs(full, 3);
    attn_test::Inputs b = attn_test::make_inputs(ring, 3);
    core::cpu_attention(a.call, 2);
    core::cpu_attention(b.call, 2);
    ASSERT_EQ(a.out.size(), b.out.size());
    for (size_t i = 0; i < a.out.size(); ++i) ASSERT_EQ(a.out[i], b.out[i]) << i;
  }
}

// head_dim 40 and 24 leave AVX-512 (and for 40 AVX2) for the portable P·V.
TEST(CpuPrefill, HeadDimsThatDoNotFillAVectorMatchTheReference) {
  for (const Case& c : cases()) {
    attn_test::Inputs in = attn_test::make_inputs(c, 11);
    core::cpu_attention(in.call, 2);
    const attn_test::Reference ref = attn_test::reference(in.call);
    double vmax = 0, worst = 0;
    for (float x : in.v_new) vmax = std::max(vmax, double(std::fabs(x)));
    for (float x : in.v_cache)
      if (!std::isnan(x)) vmax = std::max(vmax, double(std::fabs(x)));
    for (size_t i = 0; i < ref.out.size(); ++i)
      worst = std::max(worst, std::fabs(in.out[i] - ref.out[i]) / vmax);
    // test_backend_ops' output tolerance: the output is a convex mix of V, float32 sums.
    EXPECT_LE(worst, 2e-5) << "head_dim " << c.head_dim;
  }
}

TEST(CpuPrefill, ExpIsWithinOneAndAHalfUlpOfFloat64) {
  double worst = 0;
  for (double x = -87.3; x <= 88.3; x += 1e-3) {
    const float xf = static_cast<float>(x);
    const double ref = std::exp(static_cast<double>(xf));
    const double ulp = std::ldexp(1.0, std::ilogb(static_cast<float>(ref)) - 23);
    worst = std::max(worst, std::fabs(core::tile::exp(xf) - ref) / ulp);
  }
  // The last two roundings (the fma into e^r - 1 and the + 1) cost at most 0.5 ulp each; the
  // degree-7 polynomial (Cephes expf, ~1e-9 relative) and the exact ln2 split add far less.
  EXPECT_LE(worst, 1.5);
  EXPECT_EQ(core::tile::exp(0.0f), 1.0f);
  EXPECT_LT(core::tile::exp(-1000.0f), 1.3e-38f);  // clamped to e^-87.3
}

TEST(CpuPrefill, BandFormAgreesWithVisible) {
  std::vector<attn::MaskSpec> bands(5);
  bands[1].kind = attn::MaskKind::SlidingWindow;
  bands[1].window = 4;
  bands[2] = bands[1];
  bands[2].convention = attn::WindowConvention::SelfPlusPrevious;
  bands[3].kind = attn::MaskKind::Chunked;
  bands[3].chunk = 8;
  bands[3].window = 5;
  bands[4].kind = attn::MaskKind::BlockDiagonal;  // no segments: one prompt
  for (const attn::MaskSpec& m : bands) {
    int32_t max_d = -1;
    ASSERT_TRUE(attn::band_of(m, &max_d)) << int(m.kind);
    for (int q = 0; q < 40; ++q)
      for (int k = 0; k < 40; ++k)
        ASSERT_EQ(attn::visible(q, k, m), q - k >= 0 && q - k <= max_d) << q << "," << k;
  }
  const int32_t ends[] = {5, 12};
  attn::MaskSpec packed;
  packed.kind = attn::MaskKind::BlockDiagonal;
  packed.segment_ends = ends;
  packed.n_segments = 2;
  attn::MaskSpec sparse;
  sparse.kind = attn::MaskKind::Sparse;
  int32_t unused = 0;
  EXPECT_FALSE(attn::band_of(packed, &unused));
  EXPECT_FALSE(attn::band_of(sparse, &unused));
}

}  // namespace
