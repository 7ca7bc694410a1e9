#pragma once
// Boost.JSON's serializer writes one line; people and diffs want indentation.
#include <string>

#include <boost/json/value.hpp>

namespace report {

// `value` with 2-space indentation, object keys in insertion order, and a trailing newline.
// Strings that are not valid UTF-8 have the bad bytes replaced by U+FFFD so the output
// always parses back.
std::string pretty_json(const boost::json::value& value);

// `value` as it reads nested `depth` levels deep (its inner lines indented to
// match), without a newline before or after: for documents written in parts.
std::string pretty_json_nested(const boost::json::value& value, int depth);

}  // namespace report
