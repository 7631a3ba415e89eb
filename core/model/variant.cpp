#include "core/model/variant.h"

namespace core {

const char* cache_mode_name(CacheMode m) {
  switch (m) {
    case CacheMode::None:
      return "none";
    case CacheMode::Full:
      return "full";
    case CacheMode::Rolling:
      return "rolling";
  }
  return "full";
}

}  // namespace core
