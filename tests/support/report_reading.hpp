#pragma once
// Reading mtlsprobe's output in tests: text search and a finding's status
// from the JSON report.
#include <boost/json.hpp>

#include <string>

namespace testing {

inline bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The status ("pass", "fail", ...) of finding `id`, or "absent".
inline std::string status_of(const boost::json::value& report, const std::string& id) {
  for (const auto& finding : report.at("findings").as_array())
    if (finding.at("id").as_string() == id) return std::string(finding.at("status").as_string());
  return "absent";
}

inline std::string status_of(const std::string& json, const std::string& id) {
  return status_of(boost::json::parse(json), id);
}

// The detail of finding `id`, or "" when it is absent.
inline std::string detail_of(const boost::json::value& report, const std::string& id) {
  for (const auto& finding : report.at("findings").as_array())
    if (finding.at("id").as_string() == id) return std::string(finding.at("detail").as_string());
  return "";
}

// The string `key` of a JSON object, or "" when it is absent or not a string.
inline std::string string_field(const boost::json::object& object, const char* key) {
  auto* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

// The change of `field` in a rollover report, or an empty object when it did
// not change.
inline boost::json::object change_of(const boost::json::value& report, const std::string& field) {
  for (const auto& change : report.at("changes").as_array())
    if (change.at("field").as_string() == field) return change.as_object();
  return {};
}

}  // namespace testing
