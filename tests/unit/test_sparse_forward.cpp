// The real model under the sparse pattern (--sparse G,L,R): every captured attention row is
// exactly 0 on the keys spec.h hides and sums to 1 over the rest, and a pattern whose band
// covers the whole prompt is plain causal attention, so it gives the same logits bit for bit
// (the same keys, the same kernels, the same order).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/unit/model_test_support.h"

namespace core::model {
namespace {

using test_support::capture_options;
using test_support::synthetic_ids;

TEST(SparseForward, HiddenKeysGetZeroAndRowsSumToOne) {
  NEED_MODEL(m, "smollm2");
  ModelVariant v;
  v.sparse_global = 2;
  v.sparse_local = 5;
  v.sparse_random = 2;
  v.sparse_seed = 3;
  Session s(m, capture_options(v));
  const int n = 40;
  s.prefill(synthetic_ids(*m, n));
  const attn::MaskSpec mask = s.plan()[0].mask;
  ASSERT_EQ(mask.kind, attn::MaskKind::Sparse);
  int64_t hidden = 0;
  for (const AttentionCapture& a : s.capture().attention) {
    for (int q = 0; q < n; ++q) {
      const float* row = a.p.data() + static_cast<size_t>(q) * (q + 1) / 2;
      double sum = 0;
      for (int k = 0; k <= q; ++k) {
        if (!attn::visible(q, k, mask)) {
          ASSERT_EQ(row[k], 0.0f) << "layer " << a.layer << " q=" << q << " k=" << k;
          ++hidden;
        }
        sum += row[k];
      }
      // A sum of at most 40 fp32 probabilities normalised by one fp32 reciprocal.
      EXPECT_NEAR(sum, 1.0, 1e-5) << "layer " << a.layer << " q=" << q;
    }
  }
  EXPECT_GT(hidden, 0);
}

TEST(SparseForward, BandCoveringThePromptIsCausal) {
  NEED_MODEL(m, "smollm2");
  const int n = 24;
  ModelVariant causal, wide;
  wide.sparse_global = 1;
  wide.sparse_local = n;  // every key of every row is in the band
  Session a(m, capture_options(causal));
  Session b(m, capture_options(wide));
  const std::vector<int32_t> ids = synthetic_ids(*m, n);
  EXPECT_EQ(a.prefill(ids, true), b.prefill(ids, true));
}

}  // namespace
}  // namespace core::model
