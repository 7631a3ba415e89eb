#include "core/io/json_read.h"

namespace core {
namespace {

struct TooDeep {};

}  // namespace

nlohmann::json parse_json_limited(std::string_view text, const std::string& source) {
  using json = nlohmann::json;
  const json::parser_callback_t cap = [](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= kMaxJsonDepth)
      throw TooDeep{};
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), cap);
  } catch (const TooDeep&) {
    throw JsonError(source + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                    " levels");
  } catch (const json::parse_error& e) {
    throw JsonError(source + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const json::exception& e) {  // e.g. out_of_range 406: a number like 1e999999
    throw JsonError(source + ": invalid JSON: " + e.what());
  }
}

}  // namespace core
