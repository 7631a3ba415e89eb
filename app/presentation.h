// Presentation mode (F5 / --present): full screen, large type, no controls; shows the current
// lecture slide's figure in the slides theme with its title and caption. Left/right step
// through the lecture, Esc leaves.
#pragma once

#include <string>

namespace app {

struct AppState;

// assets/lectures/attention-efficiency.json in the source tree (ATTNLAB_ASSETS overrides).
std::string default_lecture_path();

// Loads the lecture at s.present.lecture_path once; on failure s.present.error says why and
// the slides fall back to the current scene.
void ensure_lecture(AppState& s);

void enter_presentation(AppState& s);
void leave_presentation(AppState& s);

// Number of slides (1 when the lecture did not load: the current scene is the slide).
int slide_count(const AppState& s);

// Handles ←/→/Esc/Page keys and draws the whole viewport.
void draw_presentation(AppState& s);

}  // namespace app
