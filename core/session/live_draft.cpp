#include "core/session/live_draft.h"

#include <cstdio>

namespace core {

DraftChoice choose_draft(DraftFirst mode, double ratio) {
  DraftChoice c;
  c.ratio = ratio;
  if (mode == DraftFirst::Never)
    c.why = DraftChoice::Why::Off;
  else if (mode == DraftFirst::Always)
    c.why = DraftChoice::Why::Forced;
  else if (ratio <= 0)
    c.why = DraftChoice::Why::Measuring;
  else
    c.why = ratio <= kDraftPaysRatio ? DraftChoice::Why::Pays : DraftChoice::Why::Skipped;
  return c;
}

DraftChoice DraftTimer::choose(DraftFirst mode, int n_tokens) const {
  const bool stale = ratio_ > 0 && n_tokens > 2 * tokens_;
  return choose_draft(mode, stale ? 0 : ratio_);
}

void DraftTimer::add_pair(double draft_ms, double exact_ms, int n_tokens) {
  if (draft_ms <= 0 || exact_ms <= 0) return;
  ratio_ = draft_ms / exact_ms;
  tokens_ = n_tokens;
}

std::string draft_choice_text(const DraftChoice& c) {
  char r[64] = "";
  if (c.ratio > 0) std::snprintf(r, sizeof r, "measured %.2fx of exact", c.ratio);
  switch (c.why) {
    case DraftChoice::Why::Off:
      return "";  // forced off (exports, tests): nothing to explain
    case DraftChoice::Why::Forced:
      return c.ratio > 0 ? std::string("drafts forced on, ") + r : "drafts forced on";
    case DraftChoice::Why::Measuring:
      if (c.ratio <= 0) return "timing draft vs exact";
      return std::string("timed the draft: ") + r +
             (choose_draft(DraftFirst::Measured, c.ratio).draft() ? ", so draft first next"
                                                                  : ", so exact only next");
    case DraftChoice::Why::Pays:
      return std::string("draft first: ") + r;
    case DraftChoice::Why::Skipped:
      return std::string("draft skipped: ") + r;
  }
  return "";
}

}  // namespace core
