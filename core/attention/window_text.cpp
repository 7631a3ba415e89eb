#include "core/attention/window_text.h"

namespace attn {

namespace {
bool including_self(WindowConvention c) {
  return c == WindowConvention::IncludingSelf;
}
}  // namespace

const char* convention_phrase(WindowConvention c) {
  return including_self(c) ? "W keys including self" : "self plus W previous";
}

std::string window_phrase(int window, WindowConvention c) {
  const std::string w = "W=" + std::to_string(window);
  return including_self(c) ? w + " keys including self" : w + ", self plus W previous";
}

std::string window_bound_text(int window, WindowConvention c) {
  return including_self(c) ? "W-1=" + std::to_string(window - 1) : "W=" + std::to_string(window);
}

std::string window_rule_text(int window, WindowConvention c) {
  return including_self(c) ? window_bound_text(window, c) + ", " + window_phrase(window, c)
                           : window_phrase(window, c);
}

const char* reach_formula(WindowConvention c) {
  return including_self(c) ? "L*(W-1)+1" : "L*W+1";
}

}  // namespace attn
