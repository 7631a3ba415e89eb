// Parsing JSON from files others send (scenes, lectures, app settings) with a nesting cap:
// deeper input is refused at parse time, so nothing later (error messages that dump() a value,
// recursive readers) can run out of stack.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace core {

// Deepest nesting of arrays and objects accepted. Scenes and lectures use 3 or 4 levels.
inline constexpr int kMaxJsonDepth = 64;

struct JsonError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws JsonError("<source>: invalid JSON at byte N: ..." or "... nested deeper than 64").
nlohmann::json parse_json_limited(std::string_view text, const std::string& source);

}  // namespace core
