#include "core/views/ring_state.h"

#include <algorithm>

#include "core/views/mask_grid.h"

namespace core {
namespace {

// The slots after positions 0 .. end-1 were written: only the last W positions survive, and
// each lives at ring_slot(p, W), so there is no need to replay every write.
std::vector<int> slots_after(int end, int w) {
  std::vector<int> slots(w, -1);
  for (int p = std::max(0, end - w); p < end; ++p) slots[attn::ring_slot(p, w)] = p;
  return slots;
}

attn::MaskSpec ring_mask_spec(const Scene& s) {
  attn::MaskSpec m;
  m.kind = attn::MaskKind::SlidingWindow;
  m.window = s.window;
  m.convention = s.window_convention;
  return m;
}

}  // namespace

int ring_window(const Scene& s) {
  return s.window > 0 ? s.window : std::max(1, s.seq_len);
}

RingChunkMask build_ring_chunk_mask(const Scene& s, int chunk_index) {
  RingChunkMask cm;
  cm.chunk_index = chunk_index;
  const int w = ring_window(s);
  const int c = s.chunk > 0 ? s.chunk : std::max(1, s.step);
  const int64_t start64 = static_cast<int64_t>(chunk_index) * c;
  if (chunk_index < 0 || start64 >= s.step) return cm;
  const int start = static_cast<int>(start64);
  const int len = std::min(c, s.step - start);
  // A mask this large could not be drawn anyway; the caller shows the slot table only.
  if (static_cast<int64_t>(len) * (w + len) > (int64_t{1} << 24)) return cm;
  cm.start = start;
  cm.rows = len;
  cm.cache_cols = w;
  cm.cols = w + len;
  cm.col_positions = slots_after(start, w);
  for (int i = 0; i < len; ++i) cm.col_positions.push_back(start + i);
  const attn::MaskSpec m = ring_mask_spec(s);
  cm.visible.assign(static_cast<size_t>(cm.rows) * cm.cols, 0);
  for (int r = 0; r < len; ++r) {
    const int q = start + r;
    for (int col = 0; col < cm.cols; ++col) {
      const int k = cm.col_positions[col];
      cm.visible[static_cast<size_t>(r) * cm.cols + col] = k >= 0 && attn::visible(q, k, m);
    }
  }
  return cm;
}

std::string describe_ring_slot(const RingState& r, int slot) {
  if (slot < 0 || slot >= r.window) return "";
  std::string s = "slot " + std::to_string(slot) + ": ";
  s += r.slots[slot] >= 0 ? "position " + std::to_string(r.slots[slot]) : std::string("empty");
  if (slot == r.last_slot)
    s += r.evicted >= 0 ? " (just written, evicted position " + std::to_string(r.evicted) + ")"
                        : " (just written)";
  if (slot == r.write_ptr) s += " (next write: position " + std::to_string(r.step) + ")";
  return s;
}

std::string describe_ring_chunk_cell(const Scene& s, const RingChunkMask& m, int row, int col) {
  if (row < 0 || col < 0 || row >= m.rows || col >= m.cols) return "";
  const int q = m.start + row;
  const int k = m.col_positions[col];
  std::string out = "chunk " + std::to_string(m.chunk_index) + ", q=" + std::to_string(q) + "; ";
  out += col < m.cache_cols ? "cache slot " + std::to_string(col)
                            : "chunk key " + std::to_string(col - m.cache_cols);
  if (k < 0) return out + " is empty: masked";
  out += " holds position " + std::to_string(k) + ": ";
  // Same words as the mask view, with the ring's sliding-window rule.
  Scene swa = s;
  swa.mask = attn::MaskKind::SlidingWindow;
  swa.seq_len = std::max(s.seq_len, std::max(q, k) + 1);
  const std::string why = describe_mask_cell(swa, q, k);
  const size_t colon = why.find(": ");
  return out + (colon == std::string::npos ? why : why.substr(colon + 2));
}

RingState build_ring_state(const Scene& s) {
  RingState r;
  const int w = r.window = ring_window(s);
  r.step = s.step;
  r.slots = slots_after(s.step, w);
  r.write_ptr = attn::ring_slot(s.step, w);
  if (s.step > 0) {
    r.last_slot = attn::ring_slot(s.step - 1, w);
    r.evicted = s.step - 1 - w >= 0 ? s.step - 1 - w : -1;
  }
  for (int p = std::max(0, s.step - w); p < s.step; ++p) {
    r.unrotated_positions.push_back(p);
    r.unrotated_slots.push_back(attn::ring_slot(p, w));
  }
  r.chunk = s.chunk;
  if (s.chunk > 0 && s.step > 0) {
    const int n_chunks = (s.step + s.chunk - 1) / s.chunk;
    // Keep the last chunks: the one holding position step-1 is the one the mask shows.
    for (int i = std::max(0, n_chunks - kRingMaxChunks); i < n_chunks; ++i) {
      RingChunk ch;
      ch.start = i * s.chunk;
      ch.len = std::min(s.chunk, s.step - ch.start);
      for (int p = ch.start; p < ch.start + ch.len; ++p) ch.slots.push_back(attn::ring_slot(p, w));
      ch.cache_before = slots_after(ch.start, w);
      r.chunks.push_back(std::move(ch));
    }
    r.chunk_mask = build_ring_chunk_mask(s, n_chunks - 1);
  }
  return r;
}

}  // namespace core
