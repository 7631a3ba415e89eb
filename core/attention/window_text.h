// The words for the two window conventions of spec.h, in one place, so every view, hover
// text, caption and flag help names a window the same way. ASCII only, so every UI font can
// draw it. Host-only (std::string); the rules themselves stay in spec.h.
//
//   convention_phrase     "W keys including self"   | "self plus W previous"
//   window_phrase(8)      "W=8 keys including self" | "W=8, self plus W previous"
//   window_bound_text(8)  "W-1=7"                   | "W=8"      (largest q-k the window admits)
//   reach_formula         "L*(W-1)+1"               | "L*W+1"    (positions after L layers)
//   window_rule_text(8)   "W-1=7, W=8 keys including self" | "W=8, self plus W previous"
#pragma once

#include <string>

#include "core/attention/spec.h"

namespace attn {

const char* convention_phrase(WindowConvention c);
std::string window_phrase(int window, WindowConvention c);
std::string window_bound_text(int window, WindowConvention c);
const char* reach_formula(WindowConvention c);
// The bound with its convention, for "q-k=9 > ..." texts: "W-1=7, W=8 keys including self" |
// "W=8, self plus W previous".
std::string window_rule_text(int window, WindowConvention c);

}  // namespace attn
