// The window-convention words (core/attention/window_text.h) against the rule they describe:
// the bound a text states is the largest q-k that attn::visible admits, and the reach formula,
// evaluated, is the count brute-force propagation through attn::visible finds.
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "core/attention/window_text.h"
#include "core/views/mask_grid.h"
#include "core/views/receptive_field.h"

namespace {

using attn::WindowConvention;
constexpr WindowConvention kBoth[] = {WindowConvention::IncludingSelf,
                                      WindowConvention::SelfPlusPrevious};

// Evaluates "L*(W-1)+1"-style text: integers, L, W, + - * and parentheses.
struct Eval {
  const std::string& s;
  size_t i;
  int64_t L, W;
  int64_t atom() {
    if (s[i] == '(') {
      ++i;
      const int64_t v = sum();
      ++i;  // ')'
      return v;
    }
    if (s[i] == 'L' || s[i] == 'W') return s[i++] == 'L' ? L : W;
    int64_t v = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      v = v * 10 + (s[i++] - '0');
    return v;
  }
  int64_t product() {
    int64_t v = atom();
    while (i < s.size() && s[i] == '*') ++i, v *= atom();
    return v;
  }
  int64_t sum() {
    int64_t v = product();
    while (i < s.size() && (s[i] == '+' || s[i] == '-'))
      v = s[i++] == '+' ? v + product() : v - product();
    return v;
  }
};

// The largest q-k that attn::visible admits for a sliding window.
int largest_visible_distance(int w, WindowConvention c) {
  attn::MaskSpec m;
  m.kind = attn::MaskKind::SlidingWindow;
  m.window = w;
  m.convention = c;
  int best = -1;
  for (int k = 0; k <= 100; ++k)
    if (attn::visible(100, k, m)) best = std::max(best, 100 - k);
  return best;
}

TEST(WindowText, PhrasesNameTheConvention) {
  EXPECT_STREQ(attn::convention_phrase(WindowConvention::IncludingSelf), "W keys including self");
  EXPECT_STREQ(attn::convention_phrase(WindowConvention::SelfPlusPrevious), "self plus W previous");
  EXPECT_EQ(attn::window_phrase(8, WindowConvention::IncludingSelf), "W=8 keys including self");
  EXPECT_EQ(attn::window_phrase(8, WindowConvention::SelfPlusPrevious),
            "W=8, self plus W previous");
  EXPECT_EQ(attn::window_rule_text(8, WindowConvention::IncludingSelf),
            "W-1=7, W=8 keys including self");
  EXPECT_EQ(attn::window_rule_text(8, WindowConvention::SelfPlusPrevious),
            "W=8, self plus W previous");
}

TEST(WindowText, StatedBoundIsTheLargestVisibleDistance) {
  for (WindowConvention c : kBoth)
    for (int w = 1; w <= 40; ++w) {
      const std::string t = attn::window_bound_text(w, c);
      const int stated = std::stoi(t.substr(t.find('=') + 1));
      EXPECT_EQ(stated, largest_visible_distance(w, c)) << t;
    }
}

TEST(WindowText, ReachFormulaCountsWhatBruteForceReaches) {
  for (WindowConvention c : kBoth)
    for (int w = 1; w <= 6; ++w)
      for (int layers = 1; layers <= 5; ++layers) {
        core::Scene s;
        s.preset = "custom";
        s.mask = attn::MaskKind::SlidingWindow;
        s.window = w;
        s.window_convention = c;
        s.n_layers = layers;
        s.global_every = 0;
        s.seq_len = 64;  // long enough that no reach is clipped: 5 * 6 + 1 < 64
        s.query = 63;
        const auto reached = core::propagate_reach_brute_force(s);
        int count = 0;
        for (uint8_t r : reached.back()) count += r;
        const std::string f = attn::reach_formula(c);
        Eval e{f, 0, layers, w};
        EXPECT_EQ(e.sum(), count) << f << " L=" << layers << " W=" << w;
      }
}

TEST(WindowText, HoverTextUsesTheSharedWords) {
  core::Scene s;
  s.preset = "custom";
  s.seq_len = 32;
  s.mask = attn::MaskKind::SlidingWindow;
  s.window = 5;
  for (WindowConvention c : kBoth) {
    s.window_convention = c;
    const std::string t = core::describe_mask_cell(s, 20, 2);
    EXPECT_NE(t.find(attn::window_rule_text(5, c)), std::string::npos) << t;
  }
}

}  // namespace
