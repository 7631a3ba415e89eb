// The online softmax trace against the ordinary softmax computed here in double, and its
// steps against what the running state must be after each tile.
// Tolerance: |online - double| <= 2e-5 * max|V|, the fp32-against-double bound of
// test_backend_ops (the output is a convex mix of V rows, each rounded in fp32).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/views/flash_online.h"

namespace {

constexpr double kOutTol = 2e-5;  // fp32 against double, as in test_backend_ops

TEST(FlashOnline, FinishedRowEqualsTheOrdinarySoftmax) {
  for (int d : {8, 64})
    for (int query : {0, 5, 63, 200})
      for (int bc : {1, 7, 64})
        for (int window : {0, 9}) {
          attn::MaskSpec m;
          if (window) {
            m.kind = attn::MaskKind::SlidingWindow;
            m.window = window;
          }
          const int n = query + 1;
          std::vector<float> q(d), k(static_cast<size_t>(n) * d), v(k.size());
          core::hash_fill(q, 11);
          core::hash_fill(k, 12);
          core::hash_fill(v, 13);
          const core::KvRows kv = [&](int k0, int cnt, float* ko, float* vo) {
            std::copy(k.begin() + k0 * d, k.begin() + (k0 + cnt) * d, ko);
            std::copy(v.begin() + k0 * d, v.begin() + (k0 + cnt) * d, vo);
          };
          const float scale = 1.0f / std::sqrt(static_cast<float>(d));
          const core::OnlineSoftmaxTrace t =
              core::trace_online_softmax(q.data(), kv, d, scale, m, query, bc, 16);
          // Reference: two-pass softmax over the visible keys, in double, written here.
          std::vector<double> s(n, 0.0);
          double mx = -1e300, sum = 0;
          for (int j = 0; j < n; ++j) {
            if (!attn::visible(query, j, m)) continue;
            double dot = 0;
            for (int i = 0; i < d; ++i) dot += static_cast<double>(q[i]) * k[j * d + i];
            s[j] = dot * scale;
            mx = std::max(mx, s[j]);
          }
          std::vector<double> out(d, 0.0);
          for (int j = 0; j < n; ++j)
            if (attn::visible(query, j, m)) sum += std::exp(s[j] - mx);
          double vmax = 0;
          for (int j = 0; j < n; ++j) {
            for (int i = 0; i < d; ++i) vmax = std::max(vmax, std::fabs(double(v[j * d + i])));
            if (!attn::visible(query, j, m)) continue;
            const double p = std::exp(s[j] - mx) / sum;
            for (int i = 0; i < d; ++i) out[i] += p * v[j * d + i];
          }
          for (int i = 0; i < d; ++i) EXPECT_NEAR(t.out_online[i], out[i], kOutTol * vmax);
          EXPECT_LE(t.max_abs_diff, kOutTol * vmax);
          // Steps: one per tile, m is the max of the visible scores so far, l their sum of
          // exp(s - m), and the last l equals the reference sum rescaled to the same max.
          ASSERT_EQ(static_cast<int>(t.steps.size()), (n + bc - 1) / bc);
          double run_max = -1e300;
          for (const core::OnlineStep& st : t.steps) {
            double run_sum = 0;
            for (int j = 0; j < st.k1; ++j)
              if (attn::visible(query, j, m)) run_max = std::max(run_max, s[j]);
            for (int j = 0; j < st.k1; ++j)
              if (attn::visible(query, j, m)) run_sum += std::exp(s[j] - run_max);
            if (run_sum == 0) continue;
            // fp32 scores against double: a few ulp of |s| <= |q||k| scale <= d * scale.
            EXPECT_NEAR(st.m, run_max, 1e-5 * d * scale);
            // l sums up to n terms <= 1, each with fp32 rounding: n * 2^-23 relative.
            EXPECT_NEAR(st.l, run_sum, run_sum * n * 1.2e-7);
          }
        }
}

TEST(FlashOnline, SceneTraceIsDeterministicAndChecked) {
  core::Scene s;
  s.mask = attn::MaskKind::Causal;
  s.seq_len = 300;
  s.query = 250;
  s.head_dim = 64;
  const core::OnlineSoftmaxTrace a = core::build_online_trace(s);
  const core::OnlineSoftmaxTrace b = core::build_online_trace(s);
  EXPECT_EQ(a.out_online, b.out_online);
  EXPECT_LE(a.max_abs_diff, kOutTol);  // V values in [-1, 1): max|V| <= 1
  EXPECT_LE(a.row_block_lo, s.query);
  EXPECT_GT(a.row_block_hi, s.query);
}

}  // namespace
