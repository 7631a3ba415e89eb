#include "core/views/live_memory.h"

#include <algorithm>
#include <cstdio>

#include "core/views/kv_memory.h"

namespace core {

double live_cache_formula(int n, const std::vector<int>& layer_slots, int kv_heads, int head_dim) {
  double b = 0;
  for (int slots : layer_slots)
    b += static_cast<double>(slots > 0 ? std::min(n, slots) : n) * kv_heads * head_dim * 2 * 4;
  return b;
}

LiveMemory build_live_memory(const LiveResult& r) {
  LiveMemory m;
  if (r.speed) {
    m.has_speed = true;
    m.cache_tok_s = r.speed->cache_tok_s;
    m.none_tok_s = r.speed->none_tok_s;
    m.ratio = r.speed->ratio();
    m.speed_prompt = r.speed->prompt_tokens;
    m.speed_steps = r.speed->steps;
  }
  if (!r.generation || r.generation->steps.empty()) {
    m.verdict = "press Step or Play in the ring view to generate and record the caches";
    return m;
  }
  const LiveGeneration& g = *r.generation;
  m.window = g.window;
  const std::vector<int> full_slots(g.layer_slots.size(), 0);
  m.bytes_per_token =
      static_cast<int64_t>(live_cache_formula(1, full_slots, g.kv_heads, g.head_dim));
  for (const GenStep& s : g.steps) {
    m.n.push_back(s.n_tokens);
    m.full_alloc.push_back(static_cast<double>(s.full_bytes));
    m.full_held.push_back(static_cast<double>(s.full_held));
    m.ring_alloc.push_back(static_cast<double>(s.ring_bytes));
    m.ring_held.push_back(static_cast<double>(s.ring_held));
    m.full_theory.push_back(live_cache_formula(s.n_tokens, full_slots, g.kv_heads, g.head_dim));
    m.ring_theory.push_back(live_cache_formula(s.n_tokens, g.layer_slots, g.kv_heads, g.head_dim));
    if (m.full_held.back() != m.full_theory.back() || m.ring_held.back() != m.ring_theory.back())
      m.theory_matches = false;
  }
  const size_t last = m.n.size() - 1;
  const int n_max = m.n[last];
  for (int i = 0; i <= 128; ++i) {
    const int n = static_cast<int>(static_cast<int64_t>(n_max) * i / 128);
    if (!m.curve_n.empty() && m.curve_n.back() == n) continue;
    m.curve_n.push_back(n);
    m.full_curve.push_back(live_cache_formula(n, full_slots, g.kv_heads, g.head_dim));
    m.ring_curve.push_back(live_cache_formula(n, g.layer_slots, g.kv_heads, g.head_dim));
  }
  std::string v =
      "N=" + std::to_string(m.n[last]) + ": full cache holds " + format_bytes(m.full_held[last]) +
      " (allocated " + format_bytes(m.full_alloc[last]) + "), ring holds " +
      format_bytes(m.ring_held[last]) + " (allocated " + format_bytes(m.ring_alloc[last]) + "); " +
      (m.theory_matches ? "filled bytes equal the formula at every step"
                        : "filled bytes DIFFER from the formula");
  if (m.has_speed) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "; decode %.1f tok/s with the cache vs %.1f without (%.1fx, %d-token prompt)",
                  m.cache_tok_s, m.none_tok_s, m.ratio, m.speed_prompt);
    v += buf;
  }
  m.verdict = v;
  return m;
}

}  // namespace core
