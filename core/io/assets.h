// The one lookup of the repository's assets/ folder (scenes, lectures, prompts, texts, the
// model catalog): $ATTNLAB_ASSETS when set and non-empty, else the source tree's assets/
// recorded at build time (ATTNLAB_ASSET_DIR). Read on every call, so a test or a user can
// point a running process elsewhere by setting the variable.
#pragma once

#include <string>

namespace core {

std::string asset_dir();

// asset_dir() + "/" + relative, e.g. asset_path("texts/ppl.txt").
std::string asset_path(const std::string& relative);

}  // namespace core
