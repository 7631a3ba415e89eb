#include "core/views/live_memory.h"

#include <algorithm>
#include <cstdio>

#include "core/session/live_runs.h"
#include "core/views/kv_memory.h"

namespace core {
namespace {

void add_speed(LiveMemory& m, const LiveResult& r) {
  if (!r.speed) return;
  m.has_speed = true;
  m.cache_tok_s = r.speed->cache_tok_s;
  m.none_tok_s = r.speed->none_tok_s;
  m.ratio = r.speed->ratio();
  m.speed_prompt = r.speed->prompt_tokens;
  m.speed_steps = r.speed->steps;
}

void add_paged(LiveMemory& m, const PagedUsage& u, int64_t slot_bytes) {
  if (u.block <= 0) return;
  m.block = u.block;
  m.block_bytes = u.block_bytes;
  m.paged_blocks.push_back(u.blocks_in_use);
  m.paged_empty_slots.push_back(u.empty_slots());
  m.paged_alloc.push_back(static_cast<double>(u.blocks_in_use * u.block_bytes));
  m.paged_fragment.push_back(static_cast<double>(u.empty_slots() * slot_bytes));
}

void add_curves(LiveMemory& m, const std::vector<int>& full_slots,
                const std::vector<int>& ring_slots, int kv_heads, int head_dim) {
  const int n_max = m.n.back();
  for (int i = 0; i <= 128; ++i) {
    const int n = static_cast<int>(static_cast<int64_t>(n_max) * i / 128);
    if (!m.curve_n.empty() && m.curve_n.back() == n) continue;
    m.curve_n.push_back(n);
    m.full_curve.push_back(live_cache_formula(n, full_slots, kv_heads, head_dim));
    if (!ring_slots.empty())
      m.ring_curve.push_back(live_cache_formula(n, ring_slots, kv_heads, head_dim));
  }
}

std::string paged_text(const LiveMemory& m) {
  if (m.paged_blocks.empty()) return "";
  const size_t i = m.paged_blocks.size() - 1;
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "paged B=%d (block table): %lld blocks in use x %s = %s; %lld empty slots in "
                "the last blocks = %s of fragmentation",
                m.block, static_cast<long long>(m.paged_blocks[i]),
                format_bytes(static_cast<double>(m.block_bytes)).c_str(),
                format_bytes(m.paged_alloc[i]).c_str(),
                static_cast<long long>(m.paged_empty_slots[i]),
                format_bytes(m.paged_fragment[i]).c_str());
  return buf;
}

std::string speed_text(const LiveMemory& m) {
  if (!m.has_speed) return "";
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "; decode %.1f tok/s with the cache vs %.1f without (%.1fx, %d-token prompt)",
                m.cache_tok_s, m.none_tok_s, m.ratio, m.speed_prompt);
  return buf;
}

// Before any generation step: the cache the prompt's pass left, one point.
LiveMemory from_pass(LiveMemory m, const LivePass& p, const model::Config& c) {
  const model::Capture& cap = *p.capture;
  const int n = static_cast<int>(p.tokens.size());
  const std::vector<int> full_slots(cap.cache.size(), 0);
  const int64_t slot_bytes = static_cast<int64_t>(p.kv_heads) * c.head_dim * 2 * 4;
  m.from_pass = true;
  m.n.push_back(n);
  m.full_alloc.push_back(static_cast<double>(cap.cache_bytes));
  m.full_held.push_back(static_cast<double>(cache_held_bytes(cap, c.head_dim)));
  m.full_theory.push_back(live_cache_formula(n, full_slots, p.kv_heads, c.head_dim));
  m.theory_matches = m.full_held.back() == m.full_theory.back();
  m.bytes_per_token = slot_bytes * static_cast<int64_t>(cap.cache.size());
  add_paged(m, paged_usage(cap, c.head_dim), slot_bytes);
  add_curves(m, full_slots, {}, p.kv_heads, c.head_dim);
  m.paged_line = paged_text(m);
  bool freed = false;  // a window returned blocks to the free list: fewer held than N
  for (const model::CacheCapture& cc : cap.cache)
    for (int b : cc.block_table) freed = freed || b < 0;
  m.verdict = "after the prompt's pass, N=" + std::to_string(n) + ": the cache holds " +
              format_bytes(m.full_held.back()) + " (allocated " +
              format_bytes(m.full_alloc.back()) + "), " +
              (freed              ? "the blocks the window passed are back on the free list"
               : m.theory_matches ? "equal to the formula"
                                  : "DIFFERENT from the formula") +
              "; press Step or Play in the ring view to record the caches token by token" +
              speed_text(m);
  return m;
}

LiveMemory from_generation(LiveMemory m, const LiveGeneration& g) {
  m.window = g.window;
  const std::vector<int> full_slots(g.layer_slots.size(), 0);
  const int64_t slot_bytes = static_cast<int64_t>(g.kv_heads) * g.head_dim * 2 * 4;
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
    add_paged(m, s.full_paged, slot_bytes);
  }
  add_curves(m, full_slots, g.layer_slots, g.kv_heads, g.head_dim);
  m.paged_line = paged_text(m);
  const size_t last = m.n.size() - 1;
  m.verdict = "N=" + std::to_string(m.n[last]) + ": full cache holds " +
              format_bytes(m.full_held[last]) + " (allocated " + format_bytes(m.full_alloc[last]) +
              "), ring holds " + format_bytes(m.ring_held[last]) + " (allocated " +
              format_bytes(m.ring_alloc[last]) + "); " +
              (m.theory_matches ? "filled bytes equal the formula at every step"
                                : "filled bytes DIFFER from the formula") +
              speed_text(m);
  return m;
}

}  // namespace

double live_cache_formula(int n, const std::vector<int>& layer_slots, int kv_heads, int head_dim) {
  double b = 0;
  for (int slots : layer_slots)
    b += static_cast<double>(slots > 0 ? std::min(n, slots) : n) * kv_heads * head_dim * 2 * 4;
  return b;
}

LiveMemory build_live_memory(const LiveResult& r) {
  LiveMemory m;
  add_speed(m, r);
  if (r.generation && !r.generation->steps.empty()) return from_generation(m, *r.generation);
  if (r.pass && r.pass->capture && r.config) return from_pass(m, *r.pass, *r.config);
  m.verdict = "running the forward pass...";
  return m;
}

}  // namespace core
