#include "core/io/assets.h"

#include <cstdlib>

namespace core {

std::string asset_dir() {
  const char* env = std::getenv("ATTNLAB_ASSETS");
  return env && *env ? env : ATTNLAB_ASSET_DIR;
}

std::string asset_path(const std::string& relative) {
  return asset_dir() + "/" + relative;
}

}  // namespace core
