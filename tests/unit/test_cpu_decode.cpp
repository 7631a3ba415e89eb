// The CPU decode attention (core/attention/cpu_decode.cpp, calls of fewer than
// kPrefillMinQueries queries): against the float64 reference of attention_reference.h on
// random inputs (head_dim 64 and 256, GQA, windows, rings, rows long enough to span several
// tiles and parts) within an a-priori float32 error bound, its bits independent of the
// instruction set and the thread count, and a ring giving a growing cache's bits.
// test_backend_ops covers the other masks and layouts at its fixed tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/attention/cpu_attention.h"
#include "core/attention/cpu_decode.h"
#include "core/attention/cpu_decode_kernels.h"
#include "core/attention/cpu_isa.h"
#include "tests/unit/attention_reference.h"

namespace {

using attn_test::Case;
using attn_test::Layout;

using attn_test::IsaGuard;

attn::MaskSpec window(int w, attn::WindowConvention conv = attn::WindowConvention::IncludingSelf) {
  attn::MaskSpec m;
  m.kind = attn::MaskKind::SlidingWindow;
  m.window = w;
  m.convention = conv;
  return m;
}

Case make_case(std::string name, int n_heads, int n_kv_heads, int hd, attn::MaskSpec mask,
               Layout layout, int ring, int n_prior, int n_q) {
  Case c;
  c.name = std::move(name);
  c.n_heads = n_heads;
  c.n_kv_heads = n_kv_heads;
  c.head_dim = hd;
  c.mask = mask;
  c.layout = layout;
  c.ring = ring;
  c.n_prior = n_prior;
  c.n_q = n_q;
  return c;
}

// SmolLM2's and Gemma-3's shapes and a few others; rows of 1 to ~1100 keys, so some end inside
// a tile and some span several parts; rings that wrapped; chunks of a few queries.
std::vector<Case> cases() {
  const auto incl = attn::WindowConvention::IncludingSelf;
  const auto prev = attn::WindowConvention::SelfPlusPrevious;
  return {
      make_case("smollm2/causal", 9, 3, 64, {}, Layout::Full, 0, 700, 1),
      make_case("smollm2/first_token", 9, 3, 64, {}, Layout::None, 0, 0, 1),
      make_case("smollm2/swa300_ring", 9, 3, 64, window(300, incl), Layout::Ring, 300, 1100, 1),
      make_case("smollm2/chunk5", 9, 3, 64, window(100, prev), Layout::Full, 0, 170, 5),
      make_case("gemma3/global", 4, 1, 256, {}, Layout::Full, 0, 1030, 1),
      make_case("gemma3/swa512_ring", 4, 1, 256, window(512, incl), Layout::Ring, 512, 900, 1),
      make_case("gemma3/swa512_ring_chunk3", 4, 1, 256, window(512, incl), Layout::Ring, 512, 600,
                3),
      make_case("mha/hd128_paged", 4, 4, 128, window(77, incl), Layout::Shuffled, 0, 200, 2),
      make_case("mqa/hd40", 8, 1, 40, {}, Layout::Full, 0, 333, 1),
  };
}

// Unit roundoff of float32 and Higham's gamma_n = n u / (1 - n u), the bound on the relative
// error of an n-term float32 dot product or sum in any order (Higham, Accuracy and Stability
// of Numerical Algorithms, 2nd ed., §3.1 and §4.2).
constexpr double kU = 0x1p-24;
double gamma(double n) {
  return n * kU / (1 - n * kU);
}

// The a-priori bound on one row's errors against exact arithmetic, to first order.
//   E: a score's error, gamma_{hd+1} * scale * sum_d |q_d k_d| (the dot, then the scale);
//      the exact softmax of scores off by <= E is off by a factor within e^{±2E}.
//   R: the largest |x_j - m| (the spread of the row's scores): each exp's argument is
//      rounded (relative u), so its result is off by u * R at most, plus tile::exp's own
//      1.5 ulp (<= 3u, test_cpu_prefill) and the multiply that applies it.
//   T: online-softmax rescales (one per tile and per part), each one more exp and multiply;
//      their arguments add up to at most R.
//   N: keys, the length of the running sums (l, and o's chains): gamma_{N+T}.
struct RowBound {
  double prob_rel;  // |p - p_ref| <= prob_rel * max_j p_ref_j
  double out_rel;   // |out - out_ref| <= out_rel * max_j |v_j| of the row
};

RowBound row_bound(const core::AttentionCall& c, int t, int h) {
  const int hd = c.head_dim;
  const size_t kvd = static_cast<size_t>(c.n_kv_heads) * hd;
  const size_t off = static_cast<size_t>(attn::kv_head_of(h, c.n_heads, c.n_kv_heads)) * hd;
  const float* q = c.q + (static_cast<size_t>(t) * c.n_heads + h) * hd;
  std::vector<double> s;
  double e = 0;
  auto see = [&](int32_t pos, const float* k) {
    if (pos < 0 || !attn::visible(c.q_pos[t], pos, c.mask)) return;
    double dot = 0, mag = 0;
    for (int d = 0; d < hd; ++d) {
      dot += double(q[d]) * k[off + d];
      mag += std::fabs(double(q[d]) * k[off + d]);
    }
    s.push_back(c.scale * dot);
    e = std::max(e, gamma(hd + 1) * c.scale * mag);
  };
  for (int i = 0; i < c.n_slots; ++i) see(c.slot_pos[i], c.k_cache + i * kvd);
  for (int j = 0; j < c.n_q; ++j) see(c.q_pos[j], c.k_new + j * kvd);
  const double n = static_cast<double>(s.size());
  double r = 0;
  if (!s.empty()) {
    const auto [lo, hi] = std::minmax_element(s.begin(), s.end());
    r = *hi - *lo + 2 * e;
  }
  const double t_rescales =
      std::ceil(n / core::decode::kKeys) + std::ceil(n / core::kSplitKeys) + 1;
  const double rho =
      std::expm1(2 * e) + 2 * kU * (7 + 2 * r + 4 * t_rescales) + gamma(n + t_rescales);
  return {rho + kU * (5 + r), rho + gamma(n + t_rescales) + 2 * kU};
}

struct Worst {
  double out = 0, prob = 0;  // largest error / its bound
  std::string where;
};

// Every output and captured probability of the call against the float64 reference, each
// divided by its row's bound.
Worst check_against_reference(const attn_test::Inputs& in) {
  const core::AttentionCall& c = in.call;
  const attn_test::Reference ref = attn_test::reference(c);
  const int hd = c.head_dim;
  Worst w;
  for (int t = 0; t < c.n_q; ++t)
    for (int h = 0; h < c.n_heads; ++h) {
      const RowBound b = row_bound(c, t, h);
      const size_t row = static_cast<size_t>(t) * c.n_heads + h;
      // max |v| over the row's visible keys bounds |out| and scales its error.
      double vmax = 0;
      const size_t kvd = static_cast<size_t>(c.n_kv_heads) * hd;
      const size_t off = static_cast<size_t>(attn::kv_head_of(h, c.n_heads, c.n_kv_heads)) * hd;
      for (int i = 0; i < c.n_slots; ++i)
        if (c.slot_pos[i] >= 0 && attn::visible(c.q_pos[t], c.slot_pos[i], c.mask))
          for (int d = 0; d < hd; ++d)
            vmax = std::max(vmax, std::fabs(double(c.v_cache[i * kvd + off + d])));
      for (int j = 0; j < c.n_q; ++j)
        if (attn::visible(c.q_pos[t], c.q_pos[j], c.mask))
          for (int d = 0; d < hd; ++d)
            vmax = std::max(vmax, std::fabs(double(c.v_new[j * kvd + off + d])));
      for (int d = 0; d < hd; ++d) {
        const double err = std::fabs(in.out[row * hd + d] - ref.out[row * hd + d]);
        const double rel = err / (b.out_rel * vmax);
        if (!(rel <= w.out))
          w.out = std::isnan(rel) ? INFINITY : rel, w.where = "out row " + std::to_string(row);
      }
      if (!c.prob_rows || !c.prob_rows[row]) continue;
      const double pmax = *std::max_element(ref.prob[row].begin(), ref.prob[row].end());
      for (size_t k = 0; k < ref.prob[row].size(); ++k) {
        const double got = in.prob_store[row][k];
        if (ref.prob[row][k] == 0.0 && got != 0.0) w.prob = INFINITY;  // an unseen key
        const double rel = std::fabs(got - ref.prob[row][k]) / (b.prob_rel * pmax);
        if (!(rel <= w.prob))
          w.prob = std::isnan(rel) ? INFINITY : rel, w.where = "prob row " + std::to_string(row);
      }
    }
  return w;
}

TEST(CpuDecode, MatchesTheFloat64ReferenceWithinTheErrorBound) {
  IsaGuard guard;
  for (core::Isa isa : {core::Isa::Avx512, core::Isa::Avx2, core::Isa::Scalar}) {
    core::force_isa(isa);  // clamped to what this CPU has
    const std::vector<Case> all = cases();
    double worst_out = 0, worst_prob = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      attn_test::Inputs in = attn_test::make_inputs(all[i], 100 + static_cast<uint32_t>(i));
      core::cpu_attention(in.call, 2);
      const Worst w = check_against_reference(in);
      // Each error divided by its a-priori bound (row_bound): at most 1.
      EXPECT_LE(w.out, 1.0) << all[i].name << " " << core::isa_name(isa) << " " << w.where;
      EXPECT_LE(w.prob, 1.0) << all[i].name << " " << core::isa_name(isa) << " " << w.where;
      worst_out = std::max(worst_out, w.out);
      worst_prob = std::max(worst_prob, w.prob);
    }
    std::printf("%s: worst error / bound: output %.3g, probability %.3g\n",
                core::isa_name(core::current_isa()), worst_out, worst_prob);
  }
}

// The bound is tight enough to see a wrong key set: a window one key too wide is caught.
TEST(CpuDecode, TheBoundCatchesAWindowOffByOne) {
  Case c = make_case("off_by_one", 9, 3, 64, window(6), Layout::Full, 0, 300, 1);
  attn_test::Inputs in = attn_test::make_inputs(c, 9);
  core::AttentionCall wrong = in.call;
  wrong.mask.convention = attn::WindowConvention::SelfPlusPrevious;  // 7 keys, not 6
  core::cpu_attention(wrong, 1);
  const Worst w = check_against_reference(in);
  EXPECT_GT(w.out, 100.0);
  EXPECT_GT(w.prob, 100.0);
}

using attn_test::bits;

using attn_test::cpu_bits;

TEST(CpuDecode, EveryInstructionSetAndThreadCountGivesTheSameBits) {
  IsaGuard guard;
  std::vector<Case> all = cases();
  // Enough work to take the threads (cpu_decode.cpp's threshold), in several parts.
  all.push_back(make_case("long", 9, 3, 64, {}, Layout::Full, 0, 5000, 1));
  for (const Case& c : all) {
    core::force_isa(core::Isa::Avx512);  // clamped to what this CPU has
    const std::vector<uint32_t> want = cpu_bits(c, 1);
    EXPECT_EQ(cpu_bits(c, 3), want) << c.name << ": 3 threads";
    for (core::Isa isa : {core::Isa::Avx2, core::Isa::Scalar}) {
      core::force_isa(isa);
      EXPECT_EQ(cpu_bits(c, 2), want) << c.name << ": " << core::isa_name(isa);
    }
  }
}

// A ring that wrapped holds the window's keys in other slots than a growing cache; the
// decode path lists them by position, so it gives the growing cache's bits, also for rows
// that span several tiles and parts.
TEST(CpuDecode, RingEqualsFullCacheBitForBit) {
  for (auto conv :
       {attn::WindowConvention::IncludingSelf, attn::WindowConvention::SelfPlusPrevious})
    for (int hd : {64, 256})
      for (int n_q : {1, 3}) {
        const int w = 300;
        Case full = make_case("full", 9, 3, hd, window(w, conv), Layout::Full, 0, 1000, n_q);
        Case ring = full;
        ring.layout = Layout::Ring;
        ring.ring = w + 1;  // every key before the chunk that either convention reaches
        attn_test::Inputs a = attn_test::make_inputs(full, 3);
        attn_test::Inputs b = attn_test::make_inputs(ring, 3);
        core::cpu_attention(a.call, 2);
        core::cpu_attention(b.call, 2);
        EXPECT_EQ(bits(a), bits(b)) << "hd " << hd << " n_q " << n_q;
      }
}

}  // namespace
