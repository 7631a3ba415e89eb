// Inputs and an independent reference for attention backend tests: a case describes heads,
// head_dim, mask, and how earlier positions sit in the cache (none, full, ring, or shuffled
// pages with empty slots); make_inputs() fills it with seeded random data and reference()
// computes the answer naively in double precision: the full score matrix, masked with
// spec.h visible(), softmax, times V. It shares nothing with the backends except visible().
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/attention/backend.h"
#include "core/attention/cpu_attention.h"
#include "core/attention/cpu_isa.h"
#include "core/attention/spec.h"

namespace attn_test {

enum class Layout {
  None,      // no cache: the chunk starts at position 0
  Full,      // slot s holds position s
  Ring,      // ring of `ring` slots, slot p % ring holds the latest p; -1 while never written
  Shuffled,  // positions in a random slot order, plus empty (-1) slots holding NaN K/V
};

struct Case {
  std::string name;
  int n_heads = 1;
  int n_kv_heads = 1;
  int head_dim = 64;
  attn::MaskSpec mask;
  std::vector<int32_t> segment_ends;  // BlockDiagonal; mask.segment_ends points here
  Layout layout = Layout::None;
  int ring = 0;              // slots of a Ring layout
  int n_prior = 0;           // positions 0..n_prior-1 were seen before this chunk
  int n_q = 1;               // the chunk: positions n_prior..n_prior+n_q-1
  float score_scale = 1.0f;  // > 1 makes the softmax peaky (large score spreads)
  bool capture = true;       // capture probabilities for two of every three rows
};

// Everything a backend call points at, owned here.
struct Inputs {
  std::vector<int32_t> q_pos, slot_pos;
  std::vector<float> q, k_new, v_new, k_cache, v_cache, out;
  std::vector<std::vector<float>> prob_store;  // [n_q * n_heads] rows, empty = not captured
  std::vector<float*> prob_rows;
  core::AttentionCall call;
};

inline void fill_normal(std::vector<float>& v, size_t n, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  v.resize(n);
  for (auto& x : v) x = d(rng);
}

// Builds the call. `c` must outlive the returned Inputs (the mask points into it).
inline Inputs make_inputs(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  Inputs in;
  const int hd = c.head_dim;
  const size_t kvd = static_cast<size_t>(c.n_kv_heads) * hd;
  // K/V of every earlier position, then placed into slots by the layout.
  std::vector<float> k_prior, v_prior;
  fill_normal(k_prior, c.n_prior * kvd, rng);
  fill_normal(v_prior, c.n_prior * kvd, rng);
  switch (c.layout) {
    case Layout::None:
      break;
    case Layout::Full:
      in.slot_pos.resize(c.n_prior);
      std::iota(in.slot_pos.begin(), in.slot_pos.end(), 0);
      break;
    case Layout::Ring:
      in.slot_pos.assign(c.ring, -1);
      for (int p = 0; p < c.n_prior; ++p) in.slot_pos[p % c.ring] = p;
      break;
    case Layout::Shuffled:
      in.slot_pos.resize(c.n_prior);
      std::iota(in.slot_pos.begin(), in.slot_pos.end(), 0);
      for (int e = 0; e < 4; ++e) in.slot_pos.push_back(-1);
      std::shuffle(in.slot_pos.begin(), in.slot_pos.end(), rng);
      break;
  }
  const size_t n_slots = in.slot_pos.size();
  in.k_cache.assign(n_slots * kvd, std::numeric_limits<float>::quiet_NaN());
  in.v_cache.assign(n_slots * kvd, std::numeric_limits<float>::quiet_NaN());
  for (size_t s = 0; s < n_slots; ++s) {
    if (in.slot_pos[s] < 0) continue;
    std::copy_n(k_prior.begin() + in.slot_pos[s] * kvd, kvd, in.k_cache.begin() + s * kvd);
    std::copy_n(v_prior.begin() + in.slot_pos[s] * kvd, kvd, in.v_cache.begin() + s * kvd);
  }
  in.q_pos.resize(c.n_q);
  std::iota(in.q_pos.begin(), in.q_pos.end(), c.n_prior);
  fill_normal(in.q, static_cast<size_t>(c.n_q) * c.n_heads * hd, rng);
  fill_normal(in.k_new, c.n_q * kvd, rng);
  fill_normal(in.v_new, c.n_q * kvd, rng);
  in.out.assign(static_cast<size_t>(c.n_q) * c.n_heads * hd, -1.0f);
  if (c.capture) {
    in.prob_store.resize(static_cast<size_t>(c.n_q) * c.n_heads);
    in.prob_rows.assign(in.prob_store.size(), nullptr);
    for (size_t r = 0; r < in.prob_store.size(); ++r) {
      if (r % 3 == 1) continue;
      in.prob_store[r].assign(in.q_pos[r / c.n_heads] + 1, -1.0f);
      in.prob_rows[r] = in.prob_store[r].data();
    }
  }
  core::AttentionCall& call = in.call;
  call.n_q = c.n_q;
  call.n_heads = c.n_heads;
  call.n_kv_heads = c.n_kv_heads;
  call.head_dim = hd;
  call.scale = c.score_scale / std::sqrt(static_cast<float>(hd));
  call.mask = c.mask;
  call.mask.segment_ends = c.segment_ends.empty() ? nullptr : c.segment_ends.data();
  call.mask.n_segments = static_cast<int32_t>(c.segment_ends.size());
  call.q_pos = in.q_pos.data();
  call.q = in.q.data();
  call.k_new = in.k_new.data();
  call.v_new = in.v_new.data();
  call.n_slots = static_cast<int>(n_slots);
  call.slot_pos = in.slot_pos.data();
  call.k_cache = in.k_cache.data();
  call.v_cache = in.v_cache.data();
  call.out = in.out.data();
  call.prob_rows = c.capture ? in.prob_rows.data() : nullptr;
  return in;
}

struct Reference {
  std::vector<double> out;                // [n_q, n_heads, head_dim]
  std::vector<std::vector<double>> prob;  // [n_q * n_heads][q_pos + 1], by key position
};

// Naive attention in double over exactly the keys the call holds.
inline Reference reference(const core::AttentionCall& c) {
  const int hd = c.head_dim;
  const size_t kvd = static_cast<size_t>(c.n_kv_heads) * hd;
  // Every key the call holds: cache slots first, then the chunk's own.
  std::vector<int32_t> kpos;
  std::vector<const float*> kptr, vptr;
  for (int s = 0; s < c.n_slots; ++s) {
    if (c.slot_pos[s] < 0) continue;
    kpos.push_back(c.slot_pos[s]);
    kptr.push_back(c.k_cache + s * kvd);
    vptr.push_back(c.v_cache + s * kvd);
  }
  for (int t = 0; t < c.n_q; ++t) {
    kpos.push_back(c.q_pos[t]);
    kptr.push_back(c.k_new + t * kvd);
    vptr.push_back(c.v_new + t * kvd);
  }
  const size_t nk = kpos.size();
  Reference ref;
  ref.out.assign(static_cast<size_t>(c.n_q) * c.n_heads * hd, 0.0);
  ref.prob.resize(static_cast<size_t>(c.n_q) * c.n_heads);
  for (int h = 0; h < c.n_heads; ++h) {
    const int g = h * c.n_kv_heads / c.n_heads;  // K/V head shared by this query head
    // Score matrix of this head: [n_q, nk], -inf where masked.
    std::vector<double> s(c.n_q * nk, -INFINITY);
    for (int t = 0; t < c.n_q; ++t) {
      const float* q = c.q + (static_cast<size_t>(t) * c.n_heads + h) * hd;
      for (size_t j = 0; j < nk; ++j) {
        if (!attn::visible(c.q_pos[t], kpos[j], c.mask)) continue;
        double dot = 0;
        for (int d = 0; d < hd; ++d) dot += double(q[d]) * double(kptr[j][g * hd + d]);
        s[t * nk + j] = double(c.scale) * dot;
      }
    }
    for (int t = 0; t < c.n_q; ++t) {
      const double* row = &s[t * nk];
      double mx = -INFINITY;
      for (size_t j = 0; j < nk; ++j) mx = std::max(mx, row[j]);
      double sum = 0;
      for (size_t j = 0; j < nk; ++j) sum += row[j] == -INFINITY ? 0.0 : std::exp(row[j] - mx);
      const size_t r = static_cast<size_t>(t) * c.n_heads + h;
      ref.prob[r].assign(c.q_pos[t] + 1, 0.0);
      if (sum == 0) continue;  // no visible key: output and probabilities stay 0
      for (size_t j = 0; j < nk; ++j) {
        if (row[j] == -INFINITY) continue;
        const double p = std::exp(row[j] - mx) / sum;
        ref.prob[r][kpos[j]] = p;
        for (int d = 0; d < hd; ++d) ref.out[r * hd + d] += p * double(vptr[j][g * hd + d]);
      }
    }
  }
  return ref;
}

// Restores the process's instruction set when a test ends.
struct IsaGuard {
  ~IsaGuard() { core::force_isa(core::best_isa()); }
};

// The output and the captured probabilities as raw bytes.
inline std::vector<uint32_t> bits(const Inputs& in) {
  std::vector<float> all(in.out);
  for (const auto& row : in.prob_store) all.insert(all.end(), row.begin(), row.end());
  std::vector<uint32_t> b(all.size());
  std::memcpy(b.data(), all.data(), all.size() * sizeof(float));
  return b;
}

// The bits of the CPU backend on case c (inputs from seed 5) with `threads` threads.
inline std::vector<uint32_t> cpu_bits(const Case& c, int threads) {
  Inputs in = make_inputs(c, 5);
  core::cpu_attention(in.call, threads);
  return bits(in);
}

}  // namespace attn_test
