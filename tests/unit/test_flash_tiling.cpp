// The flash view's closed forms against brute force: block sizes against the paper's
// definition searched directly, every tile's kind against attn::visible on all of its pairs,
// the HBM formulas against a step-by-step walk of Algorithms 0, 1 (FA1) and FA2, and the
// numbers of attnlab's own kernel against what the kernel emulator measures as it runs.
// All counts are integers, so every comparison is exact.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/views/flash_tiling.h"
#include "kernels/kernel_emulator.h"

namespace {

using core::Tile;
using core::TileKind;

struct MaskCase {
  std::string name;
  attn::MaskSpec spec;
};

// Every mask kind, windows in both conventions, and the segments they point into.
std::vector<MaskCase> mask_cases(const std::vector<int32_t>& ends) {
  std::vector<MaskCase> v;
  attn::MaskSpec s;
  v.push_back({"causal", s});
  s.kind = attn::MaskKind::SlidingWindow;
  s.window = 9;
  v.push_back({"swa9_incl", s});
  s.convention = attn::WindowConvention::SelfPlusPrevious;
  v.push_back({"swa9_prev", s});
  s = attn::MaskSpec();
  s.kind = attn::MaskKind::Chunked;
  s.chunk = 24;
  v.push_back({"chunked24", s});
  s.window = 13;
  v.push_back({"chunked24_w13", s});
  s = attn::MaskSpec();
  s.kind = attn::MaskKind::BlockDiagonal;
  s.segment_ends = ends.data();
  s.n_segments = static_cast<int32_t>(ends.size());
  v.push_back({"blockdiag", s});
  s.window = 6;
  v.push_back({"blockdiag_w6", s});
  s = attn::MaskSpec();
  s.kind = attn::MaskKind::Sparse;
  s.sparse_global = 3;
  s.sparse_local = 7;
  s.sparse_random = 2;
  s.sparse_seed = 5;
  v.push_back({"sparse", s});
  return v;
}

TileKind brute_kind(const attn::MaskSpec& m, const Tile& t) {
  int64_t vis = 0;
  for (int q = t.q0; q < t.q1; ++q)
    for (int k = t.k0; k < t.k1; ++k) vis += attn::visible(q, k, m) ? 1 : 0;
  if (vis == 0) return TileKind::Skipped;
  return vis == static_cast<int64_t>(t.q1 - t.q0) * (t.k1 - t.k0) ? TileKind::Full
                                                                  : TileKind::Masked;
}

TEST(FlashTiling, BlockSizesFollowThePaper) {
  for (int64_t sram : {core::kSramA100, core::kSramH100, int64_t{48 * 1024}, int64_t{1000}})
    for (int bytes : {1, 2, 4})
      for (int d : {32, 64, 80, 128, 256}) {
        const core::FlashBlockSizes b = core::flash_block_sizes(sram, bytes, d);
        const int64_t m = sram / bytes;
        int64_t bc = 1;  // the smallest Bc with 4 d Bc >= M is ceil(M / 4d)
        while (4 * d * bc < m) ++bc;
        EXPECT_EQ(b.sram_elems, m);
        EXPECT_EQ(b.block_cols, bc) << sram << " " << bytes << " " << d;
        EXPECT_EQ(b.block_rows, bc < d ? bc : d);
      }
}

TEST(FlashTiling, TilesPartitionEachCallAndMatchBruteForce) {
  const std::vector<int32_t> ends = {17, 40, 41, 70};
  for (const MaskCase& mc : mask_cases(ends))
    for (int n : {1, 37, 90})
      for (auto [br, bc] : {std::pair{1, 1}, {8, 8}, {7, 12}, {16, 5}, {128, 192}}) {
        SCOPED_TRACE(mc.name + " n=" + std::to_string(n) + " br=" + std::to_string(br) +
                     " bc=" + std::to_string(bc));
        const core::TileGrid g = core::build_tile_grid(mc.spec, n, br, bc);
        ASSERT_EQ(static_cast<int64_t>(g.tiles.size()), g.total);
        // Each query's row is covered once over keys [0, end of its call).
        std::vector<int> cover(static_cast<size_t>(n) * n, 0);
        int64_t skipped = 0, masked = 0, full = 0;
        for (const Tile& t : g.tiles) {
          EXPECT_EQ(t.kind, brute_kind(mc.spec, t))
              << t.q0 << ".." << t.q1 << " x " << t.k0 << ".." << t.k1;
          EXPECT_EQ(t.kind, core::classify_tile(mc.spec, t));
          for (int q = t.q0; q < t.q1; ++q)
            for (int k = t.k0; k < t.k1; ++k) ++cover[static_cast<size_t>(q) * n + k];
          (t.kind == TileKind::Skipped ? skipped : t.kind == TileKind::Full ? full : masked)++;
        }
        const int chunk =
            mc.spec.kind == attn::MaskKind::Chunked && mc.spec.chunk > 0 ? mc.spec.chunk : n;
        for (int q = 0; q < n; ++q) {
          const int end = std::min(n, (q / chunk + 1) * chunk);
          for (int k = 0; k < n; ++k)
            ASSERT_EQ(cover[static_cast<size_t>(q) * n + k], k < end ? 1 : 0) << q << "," << k;
        }
        EXPECT_EQ(g.skipped, skipped);
        EXPECT_EQ(g.masked, masked);
        EXPECT_EQ(g.full, full);
      }
}

// Algorithms 0, 1 (FA1) and FA2 walked loop by loop over calls laid out here from scratch,
// tile kinds from brute force, adding every HBM read and write in elements.
struct Walked {
  int64_t standard = 0, fa1 = 0, fa2 = 0;
  int64_t row_blocks = 0, live_rows = 0;
};

Walked walk_hbm(const attn::MaskSpec& m, int n, int br, int bc, int d) {
  Walked w;
  const int64_t nn = n;
  w.standard += 2 * nn * d;        // read Q, K
  w.standard += nn * nn;           // write S
  w.standard += nn * nn;           // read S
  w.standard += nn * nn;           // write P
  w.standard += nn * nn + nn * d;  // read P, V
  w.standard += nn * d;            // write O
  w.fa1 += nn * d + 2 * nn;        // FA1 initialises O, l, m in HBM
  const int chunk = m.kind == attn::MaskKind::Chunked && m.chunk > 0 ? m.chunk : n;
  for (int s = 0; s < n; s += chunk) {
    const int e = std::min(n, s + chunk);
    std::vector<std::pair<int, int>> cols;  // the call's key tiles: cache, then its own keys
    for (int k = 0; k < s; k += bc) cols.push_back({k, std::min(k + bc, s)});
    for (int k = s; k < e; k += bc) cols.push_back({k, std::min(k + bc, e)});
    std::vector<std::pair<int, int>> rows;
    for (int r = s; r < e; r += br) rows.push_back({r, std::min(r + br, e)});
    w.row_blocks += static_cast<int64_t>(rows.size());
    auto live = [&](size_t i, size_t j) {
      return brute_kind(m, Tile{rows[i].first, rows[i].second, cols[j].first, cols[j].second}) !=
             TileKind::Skipped;
    };
    for (size_t j = 0; j < cols.size(); ++j) {  // FA1: outer loop over K/V tiles
      const int64_t bcj = cols[j].second - cols[j].first;
      bool loaded = false;
      for (size_t i = 0; i < rows.size(); ++i) {
        if (!live(i, j)) continue;
        if (!loaded) w.fa1 += 2 * bcj * d;  // K_j, V_j into SRAM once
        loaded = true;
        const int64_t bri = rows[i].second - rows[i].first;
        w.fa1 += 2 * bri * d + 2 * bri;  // read Q_i, O_i, l_i, m_i
        w.fa1 += bri * d + 2 * bri;      // write O_i, l_i, m_i
        w.live_rows += bri;
      }
    }
    for (size_t i = 0; i < rows.size(); ++i) {  // FA2: outer loop over Q tiles
      const int64_t bri = rows[i].second - rows[i].first;
      w.fa2 += bri * d;  // read Q_i
      for (size_t j = 0; j < cols.size(); ++j)
        if (live(i, j)) w.fa2 += 2 * (cols[j].second - cols[j].first) * d;  // K_j, V_j
      w.fa2 += bri * d + bri;  // write O_i and the logsumexp L_i
    }
  }
  return w;
}

TEST(FlashTiling, HbmFormulasMatchTheAlgorithmsWalked) {
  const std::vector<int32_t> ends = {17, 40, 41, 70};
  for (const MaskCase& mc : mask_cases(ends))
    for (int n : {1, 37, 90})
      for (auto [br, bc] : {std::pair{8, 8}, {7, 12}, {16, 5}})
        for (int d : {16, 64}) {
          SCOPED_TRACE(mc.name + " n=" + std::to_string(n) + " br=" + std::to_string(br) +
                       " bc=" + std::to_string(bc) + " d=" + std::to_string(d));
          const core::TileGrid g = core::build_tile_grid(mc.spec, n, br, bc);
          const core::HbmTraffic h = core::hbm_traffic(g, d, 4 * d * bc);
          const Walked w = walk_hbm(mc.spec, n, br, bc, d);
          EXPECT_EQ(h.standard, w.standard);
          EXPECT_EQ(h.fa1, w.fa1);
          EXPECT_EQ(h.fa2, w.fa2);
          EXPECT_EQ(g.row_blocks, w.row_blocks);
          const core::FlashSchedule sch = core::flash_schedule(g, 3, 2);
          EXPECT_EQ(sch.thread_blocks_fa1, 6);
          EXPECT_EQ(sch.thread_blocks_fa2, 6 * w.row_blocks);
          EXPECT_EQ(sch.rescales_fa1, 2 * w.live_rows);
          EXPECT_EQ(sch.rescales_fa2, w.live_rows + n);
        }
}

// A hand count for causal masks with square tiles B dividing N: of the T = N/B row blocks,
// block i uses key tiles 0..i, so T(T+1)/2 tiles are live and (T-1)T/2 are skipped. FA2 then
// reads K and V 2 d B T(T+1)/2 times and Q, O, L once: N(2d + 1). Against the paper's
// Theta(N^2 d^2 / M) bound, FA2 is below the standard 4Nd + 4N^2 once B > d / 2.
TEST(FlashTiling, CausalSquareTilesMatchAHandCount) {
  attn::MaskSpec causal;
  for (int b : {16, 64, 128})
    for (int t : {1, 2, 7, 32})
      for (int d : {64, 128}) {
        const int64_t n = static_cast<int64_t>(b) * t;
        const core::TileGrid g = core::build_tile_grid(causal, static_cast<int>(n), b, b, false);
        EXPECT_EQ(g.total, int64_t{t} * t);
        EXPECT_EQ(g.skipped, int64_t{t} * (t - 1) / 2);
        EXPECT_EQ(g.masked, t);  // the diagonal tiles
        EXPECT_EQ(g.full, int64_t{t} * (t - 1) / 2);
        const core::HbmTraffic h = core::hbm_traffic(g, d, 4LL * d * b);
        EXPECT_EQ(h.fa2, n * (2 * d + 1) + 2LL * d * b * t * (t + 1) / 2);
        EXPECT_EQ(h.standard, 4 * n * d + 4 * n * n);
        EXPECT_DOUBLE_EQ(h.bound, static_cast<double>(n) * n * d * d / (4.0 * d * b));
        if (b > d / 2 && t > 8) {
          EXPECT_LT(h.fa2, h.standard);
        }
      }
}

// The emulator runs the kernel's blocks and counts what they touch; kernel_tiles predicts the
// same counts from the launch shape and the tile grid. Chunked prefill runs one call per
// chunk against a cache that holds the positions before it, as the forward pass does.
kernels::KernelCounts emulate(const attn::MaskSpec& m, int n, int n_heads, int n_kv, int d) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  const int64_t kv_row = static_cast<int64_t>(n_kv) * d, q_row = static_cast<int64_t>(n_heads) * d;
  std::vector<float> q(n * q_row), k(n * kv_row), v(n * kv_row), out(n * q_row);
  for (float* x : {q.data(), k.data(), v.data()})
    for (int64_t i = 0; i < (x == q.data() ? n * q_row : n * kv_row); ++i) x[i] = u(rng);
  std::vector<int32_t> pos(n);
  for (int i = 0; i < n; ++i) pos[i] = i;
  const int chunk = m.kind == attn::MaskKind::Chunked && m.chunk > 0 ? m.chunk : n;
  kernels::KernelCounts c;
  for (int s = 0; s < n; s += chunk) {
    const int e = std::min(n, s + chunk);
    kernels::AttentionParams p;
    p.n_q = e - s;
    p.n_heads = n_heads;
    p.n_kv_heads = n_kv;
    p.head_dim = d;
    p.scale = 0.125f;
    p.mask = m;
    p.q_pos = pos.data() + s;
    p.q = q.data() + s * q_row;
    p.k_new = k.data() + s * kv_row;
    p.v_new = v.data() + s * kv_row;
    p.n_slots = s;
    p.slot_pos = pos.data();
    p.k_cache = k.data();
    p.v_cache = v.data();
    p.out = out.data() + s * q_row;
    kernels::emulate_attention(p, 1, &c);
  }
  return c;
}

TEST(FlashTiling, KernelEmulatorCountsEqualTheView) {
  const std::vector<int32_t> ends = {17, 40, 41, 70};
  struct Heads {
    int n_heads, n_kv, d;
  };
  for (const MaskCase& mc : mask_cases(ends))
    for (Heads h : {Heads{4, 2, 64}, Heads{9, 3, 64}, Heads{4, 1, 256}, Heads{2, 2, 32}})
      for (int n : {1, 50, 150}) {
        SCOPED_TRACE(mc.name + " n=" + std::to_string(n) + " heads=" + std::to_string(h.n_heads) +
                     "/" + std::to_string(h.n_kv) + " d=" + std::to_string(h.d));
        const kernels::KernelCounts c = emulate(mc.spec, n, h.n_heads, h.n_kv, h.d);
        const core::KernelTiles kt = core::kernel_tiles(mc.spec, n, h.n_heads, h.n_kv, h.d);
        EXPECT_EQ(kt.tiles, c.tiles);
        EXPECT_EQ(kt.tiles_skipped, c.tiles_skipped);
        EXPECT_EQ(kt.tiles_full, c.tiles_full);
        EXPECT_EQ(kt.bytes_kv, c.bytes_kv);
        EXPECT_EQ(kt.bytes_pos, c.bytes_pos);
        EXPECT_EQ(kt.bytes_q, c.bytes_q);
        EXPECT_EQ(kt.bytes_out, c.bytes_out);
      }
}

}  // namespace
