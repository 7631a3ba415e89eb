// Whether a live pass runs a draft before the exact pass (issue 12, item 3), decided per model
// from timings the worker measures itself: every draft followed by the exact pass of the same
// positions is a pair, and the draft runs first only while the last pair says it is clearly
// faster. The first pass after a model load runs both (that is the measurement), and so does a
// prompt of more than twice the tokens of the last pair (the products' share of a pass, which
// is what a draft speeds up, changes with N).
//
//   DraftTimer t;                                   // one per loaded model
//   DraftChoice c = t.choose(DraftFirst::Measured, n_tokens);  // before a pass
//   if (c.draft()) ... the draft, then the exact pass ...; t.add_pair(draft_ms, exact_ms, n);
//   draft_choice_text(c)                            // "draft skipped: measured 0.90x of exact"
#pragma once

#include <string>

#include "core/session/live_result.h"

namespace core {

// What LiveSessionOptions::draft_first asks for: decide by measurement (the app), or force it
// (tests, live-bench: Always / Never; export: Never).
enum class DraftFirst { Measured, Always, Never };

// A draft shows first only when it takes at most this share of the exact pass's time over the
// same positions. Draft-first shows the approximate map at D and the exact one at about D + E
// (the exact pass cannot reuse the draft's rounded K/V), against E without it: at D = 0.6 E the
// approximate map comes 40% of a pass sooner for an exact one 60% later, the least a two-stage
// display should buy. It also leaves margin for this shared machine's timing noise (pairs vary
// by about +-20% between runs): the int8 path's expected ratio where it works (VNNI at 4x the
// fp32 peak on the ~70% of a pass that is products: 0.3 + 0.7 / 4 ~ 0.48) is below it, as is
// the measured one on the README's CPU (0.49-0.53x, README Speed), and a draft that rounds the
// same products without a faster unit (bf16 there: slower than exact) well above it. A session's
// first draft also packs W for the int8 kernel; that set-up (LivePass::setup_ms) is not part of a
// pair.
inline constexpr double kDraftPaysRatio = 0.6;

// The decision for a ratio (0 = nothing measured yet) under a mode.
DraftChoice choose_draft(DraftFirst mode, double ratio);

// The last measured draft/exact pair of one model.
class DraftTimer {
 public:
  // The choice for a prompt of n_tokens: Measuring (time a pair) when none was timed yet or
  // the last one ran on fewer than half as many tokens.
  DraftChoice choose(DraftFirst mode, int n_tokens) const;
  // A draft and the exact pass that replaced it: the same n_tokens, setting and reused positions.
  void add_pair(double draft_ms, double exact_ms, int n_tokens);
  double ratio() const { return ratio_; }

 private:
  double ratio_ = 0;  // draft ms / exact ms of the last pair; 0 = none yet
  int tokens_ = 0;    // the prompt's tokens in that pair
};

// Why the pass shown is a draft or exact, for the info and status lines: "measured 0.45x of
// exact", "draft skipped: measured 0.90x of exact", "timing draft vs exact", ...; empty when
// drafts are forced off.
std::string draft_choice_text(const DraftChoice& c);

}  // namespace core
