// Every attention backend against an independent double-precision reference, over a table of
// cases in the style of ggml's test-backend-ops: MHA/MQA/GQA × causal, sliding window in both
// conventions, chunked, block-diagonal and sparse masks × head_dim 32/64/128/256 × chunks with
// no cache, a full cache, a rolling ring, shuffled pages with empty slots, single-token decode
// and a long chunk spanning several query blocks and key tiles.
//
// Backends: the CPU backend; the kernel emulator, which runs the CUDA kernel's block/thread
// code path on the CPU (so the kernel's math and tiling are checked without a GPU); and the
// CUDA backend itself, skipped when there is no device.
//
// Tolerances (fp32 backends against a double reference):
//   output:        |out - ref| <= 2e-5 * max|V| of the call (the output is a convex mix of V)
//   probabilities: |p - ref|   <= 1e-5 absolute, and exactly 0 where ref is exactly 0
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "core/attention/cpu_attention.h"
#include "kernels/kernel_emulator.h"
#include "tests/unit/attention_reference.h"
#if ATTNLAB_HAVE_CUDA
#include "kernels/cuda_backend.h"
#endif

namespace {

using attn_test::Case;
using attn_test::Layout;

constexpr double kOutTol = 2e-5;
constexpr double kProbTol = 1e-5;

struct MaskChoice {
  const char* name;
  attn::MaskSpec spec;
  bool segments;
};

std::vector<MaskChoice> mask_choices() {
  std::vector<MaskChoice> m;
  attn::MaskSpec s;
  m.push_back({"causal", s, false});
  s.kind = attn::MaskKind::SlidingWindow;
  s.window = 5;
  s.convention = attn::WindowConvention::IncludingSelf;
  m.push_back({"swa5_incl", s, false});
  s.convention = attn::WindowConvention::SelfPlusPrevious;
  m.push_back({"swa5_prev", s, false});
  s = attn::MaskSpec();
  s.kind = attn::MaskKind::Chunked;
  s.chunk = 8;
  s.window = 7;
  m.push_back({"chunked8_w7", s, false});
  s = attn::MaskSpec();
  s.kind = attn::MaskKind::BlockDiagonal;
  m.push_back({"blockdiag", s, true});
  s = attn::MaskSpec();
  s.kind = attn::MaskKind::Sparse;
  s.sparse_global = 2;
  s.sparse_local = 3;
  s.sparse_random = 2;
  s.sparse_seed = 11;
  m.push_back({"sparse", s, false});
  // Local band 0: a query past the global prefix may see no key at all (output 0).
  s.sparse_local = 0;
  s.sparse_random = 1;
  m.push_back({"sparse_nolocal", s, false});
  return m;
}

struct LayoutChoice {
  const char* name;
  Layout layout;
  int ring, n_prior, n_q;
};

const LayoutChoice kLayouts[] = {
    {"prefill", Layout::None, 0, 0, 29},   {"full", Layout::Full, 0, 37, 11},
    {"ring8", Layout::Ring, 8, 37, 6},     {"ring16_partial", Layout::Ring, 16, 9, 3},
    {"paged", Layout::Shuffled, 0, 23, 9}, {"decode", Layout::Full, 0, 70, 1},
    {"long", Layout::Full, 0, 150, 70},
};

struct HeadChoice {
  const char* name;
  int n_heads, n_kv_heads;
};
const HeadChoice kHeads[] = {{"mha4", 4, 4}, {"gqa6_2", 6, 2}, {"gqa9_3", 9, 3}, {"mqa4", 4, 1}};
const int kHeadDims[] = {32, 64, 128, 256};

std::vector<Case> case_table() {
  std::vector<Case> cases;
  for (const HeadChoice& hc : kHeads)
    for (int hd : kHeadDims)
      for (const MaskChoice& mc : mask_choices())
        for (const LayoutChoice& lc : kLayouts) {
          // The long chunk costs the most; one head_dim per group keeps the suite fast while
          // still crossing query-block and key-tile edges.
          if (lc.layout == Layout::Full && lc.n_q == 70 && hd != 64) continue;
          Case c;
          c.name =
              std::string(hc.name) + "/hd" + std::to_string(hd) + "/" + mc.name + "/" + lc.name;
          c.n_heads = hc.n_heads;
          c.n_kv_heads = hc.n_kv_heads;
          c.head_dim = hd;
          c.mask = mc.spec;
          if (mc.segments) c.segment_ends = {7, 19, 30, 45, 160};
          c.layout = lc.layout;
          c.ring = lc.ring;
          c.n_prior = lc.n_prior;
          c.n_q = lc.n_q;
          cases.push_back(c);
        }
  // Peaky softmax: score spreads of ~8 make the online rescale matter.
  for (int hd : kHeadDims) {
    Case c;
    c.name = "gqa9_3/hd" + std::to_string(hd) + "/causal/full/peaky";
    c.n_heads = 9;
    c.n_kv_heads = 3;
    c.head_dim = hd;
    c.layout = Layout::Full;
    c.n_prior = 100;
    c.n_q = 20;
    c.score_scale = 8.0f;
    cases.push_back(c);
  }
  // Beyond the kernel's accumulator: the GPU-path backends hand it to the CPU backend.
  Case big;
  big.name = "gqa6_2/hd320/swa5_incl/full/beyond_kernel";
  big.n_heads = 6;
  big.n_kv_heads = 2;
  big.head_dim = kernels::kMaxHeadDim + 64;
  big.mask.kind = attn::MaskKind::SlidingWindow;
  big.mask.window = 5;
  big.layout = Layout::Full;
  big.n_prior = 12;
  big.n_q = 4;
  cases.push_back(big);
  return cases;
}

struct Errors {
  double out = 0;   // max |out - ref| / max|V|
  double prob = 0;  // max |p - ref|
  bool zero_ok = true;
  std::string where;
};

Errors compare(const Case& c, const attn_test::Inputs& in, const attn_test::Reference& ref) {
  Errors e;
  double vmax = 0;
  for (float x : in.v_new) vmax = std::max(vmax, double(std::fabs(x)));
  for (size_t i = 0; i < in.v_cache.size(); ++i)
    if (!std::isnan(in.v_cache[i])) vmax = std::max(vmax, double(std::fabs(in.v_cache[i])));
  for (size_t i = 0; i < ref.out.size(); ++i) {
    const double d = std::fabs(double(in.out[i]) - ref.out[i]) / vmax;
    if (!(d <= e.out)) {  // NaN counts as the worst error
      e.out = std::isnan(d) ? INFINITY : d;
      e.where = "out[" + std::to_string(i) + "]";
    }
  }
  if (!c.capture) return e;
  for (size_t r = 0; r < in.prob_store.size(); ++r) {
    if (!in.prob_rows[r]) continue;
    for (size_t k = 0; k < ref.prob[r].size(); ++k) {
      const double got = in.prob_store[r][k];
      const double d = std::fabs(got - ref.prob[r][k]);
      if (ref.prob[r][k] == 0.0 && got != 0.0) e.zero_ok = false;
      if (!(d <= e.prob)) e.prob = std::isnan(d) ? INFINITY : d;
    }
  }
  return e;
}

// A backend under test, or the reason it is unavailable here.
struct Available {
  std::unique_ptr<core::Backend> backend;
  std::string skip;
};

Available make_backend(const std::string& which) {
  Available a;
  if (which == "cpu") a.backend = core::make_cpu_backend(2);
  if (which == "kernel_emulator") a.backend = kernels::make_kernel_emulator_backend(2);
  if (which == "cuda") {
#if ATTNLAB_HAVE_CUDA
    const kernels::CudaProbe p = kernels::probe_cuda();
    if (p.device_count > 0)
      a.backend = std::make_unique<kernels::CudaBackend>(0, 2);
    else
      a.skip = "no CUDA device: " + p.error_name;
#else
    a.skip = "no CUDA device: this build has no CUDA backend (ATTNLAB_CUDA=OFF or no nvcc)";
#endif
  }
  return a;
}

class BackendOps : public ::testing::TestWithParam<std::string> {};

TEST_P(BackendOps, EveryCaseMatchesTheDoubleReference) {
  Available a = make_backend(GetParam());
  if (!a.backend) GTEST_SKIP() << a.skip;
  const std::vector<Case> cases = case_table();
  double worst_out = 0, worst_prob = 0;
  int failures = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    attn_test::Inputs in = attn_test::make_inputs(c, 1000 + static_cast<uint32_t>(i));
    const attn_test::Reference ref = attn_test::reference(in.call);
    a.backend->attention(in.call);
    const Errors e = compare(c, in, ref);
    worst_out = std::max(worst_out, e.out);
    worst_prob = std::max(worst_prob, e.prob);
    const bool ok = e.out <= kOutTol && e.prob <= kProbTol && e.zero_ok;
    if (!ok && ++failures <= 10)
      ADD_FAILURE() << GetParam() << " " << c.name << ": output error " << e.out << " at "
                    << e.where << " (tol " << kOutTol << "), probability error " << e.prob
                    << " (tol " << kProbTol << ")"
                    << (e.zero_ok ? "" : ", non-zero probability where the reference is 0");
  }
  std::printf("%s: %zu cases, %d failed, worst output error %.3g, worst probability error %.3g\n",
              GetParam().c_str(), cases.size(), failures, worst_out, worst_prob);
  EXPECT_EQ(failures, 0);
}

// A rolling ring that holds every key the window can see gives the full cache's answer.
TEST_P(BackendOps, RingEqualsFullCacheInsideTheWindow) {
  Available a = make_backend(GetParam());
  if (!a.backend) GTEST_SKIP() << a.skip;
  for (auto conv :
       {attn::WindowConvention::IncludingSelf, attn::WindowConvention::SelfPlusPrevious})
    for (int n_q : {1, 4}) {
      Case full;
      full.n_heads = 9;
      full.n_kv_heads = 3;
      full.head_dim = 64;
      full.mask.kind = attn::MaskKind::SlidingWindow;
      full.mask.window = 6;
      full.mask.convention = conv;
      full.layout = Layout::Full;
      full.n_prior = 40;
      full.n_q = n_q;
      Case ring = full;
      ring.layout = Layout::Ring;
      ring.ring = 7;  // holds the 7 keys before the chunk: enough for either convention
      attn_test::Inputs a_in = attn_test::make_inputs(full, 7);
      attn_test::Inputs b_in = attn_test::make_inputs(ring, 7);
      a.backend->attention(a_in.call);
      a.backend->attention(b_in.call);
      double max_v = 0;
      for (float x : a_in.v_cache) max_v = std::max(max_v, std::fabs(static_cast<double>(x)));
      for (float x : a_in.v_new) max_v = std::max(max_v, std::fabs(static_cast<double>(x)));
      // The CPU backend visits the same keys in position order from either layout: bit for
      // bit. Another backend may tile the ring in slot order; each layout is within
      // kOutTol * max|V| of the float64 reference (EveryCaseMatchesTheDoubleReference), so <=
      // twice.
      const double tol = GetParam() == std::string("cpu") ? 0.0 : 2 * kOutTol * max_v;
      for (size_t i = 0; i < a_in.out.size(); ++i)
        ASSERT_NEAR(a_in.out[i], b_in.out[i], tol) << "n_q " << n_q << " at " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendOps, ::testing::Values("cpu", "kernel_emulator", "cuda"),
                         [](const auto& info) { return info.param; });

// The comparison can fail: a window off by one (the other convention) is caught.
TEST(BackendOpsControl, WrongWindowConventionIsDetected) {
  Case c;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 64;
  c.mask.kind = attn::MaskKind::SlidingWindow;
  c.mask.window = 4;
  c.layout = Layout::Full;
  c.n_prior = 20;
  c.n_q = 5;
  attn_test::Inputs in = attn_test::make_inputs(c, 3);
  const attn_test::Reference ref = attn_test::reference(in.call);
  core::AttentionCall wrong = in.call;
  wrong.mask.convention = attn::WindowConvention::SelfPlusPrevious;
  kernels::make_kernel_emulator_backend(1)->attention(wrong);
  const Errors e = compare(c, in, ref);
  EXPECT_GT(e.out, 100 * kOutTol);
  EXPECT_FALSE(e.zero_ok);
}

// Every (query, head) row of a call gets exactly `lanes` kernel threads, one per lane, all in
// the block of its K/V head; shared memory stays under the 48 KiB launch default.
TEST(BackendOpsControl, LaunchShapeCoversEveryRowOnce) {
  for (const HeadChoice& hc : kHeads)
    for (int hd : kHeadDims)
      for (int n_q : {1, 2, 7, 31, 32, 33, 100, 300}) {
        const kernels::LaunchShape s = kernels::launch_shape(n_q, hc.n_heads, hc.n_kv_heads, hd);
        EXPECT_LE(s.threads, 1024);
        EXPECT_LE(s.shared_floats * 4, 48 * 1024);
        kernels::AttentionParams p;
        p.n_q = n_q;
        p.n_heads = hc.n_heads;
        p.n_kv_heads = hc.n_kv_heads;
        p.head_dim = hd;
        std::vector<int32_t> pos(n_q, 0);
        std::vector<float> q(static_cast<size_t>(n_q) * hc.n_heads * hd);
        p.q_pos = pos.data();
        p.q = q.data();
        std::vector<uint64_t> lanes_seen(static_cast<size_t>(n_q) * hc.n_heads, 0);  // bit per lane
        auto r = std::make_unique<kernels::ThreadRow>();
        for (int bx = 0; bx < s.query_blocks; ++bx)
          for (int g = 0; g < hc.n_kv_heads; ++g)
            for (int tid = 0; tid < s.threads; ++tid) {
              kernels::row_begin(p, s, bx, g, tid, *r);
              if (!r->active) continue;
              uint64_t& seen = lanes_seen[r->t * hc.n_heads + r->h];
              EXPECT_EQ(seen & (uint64_t{1} << r->lane), 0u);
              seen |= uint64_t{1} << r->lane;
              EXPECT_EQ(attn::kv_head_of(r->h, hc.n_heads, hc.n_kv_heads), g);
            }
        const uint64_t all = (uint64_t{1} << s.lanes) - 1;
        for (uint64_t seen : lanes_seen)
          ASSERT_EQ(seen, all) << hc.name << " hd " << hd << " n_q " << n_q;
      }
}

// Decode and short chunks split each row's keys over several lanes; long chunks do not.
TEST(BackendOpsControl, FewRowsGetLanes) {
  EXPECT_GT(kernels::launch_shape(1, 9, 3, 64).lanes, 1);
  EXPECT_GT(kernels::launch_shape(1, 4, 1, 256).lanes, 1);
  EXPECT_EQ(kernels::launch_shape(512, 9, 3, 64).lanes, 1);
}

}  // namespace
