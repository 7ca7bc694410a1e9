#include "report/pretty_json.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "report/utf8.hpp"

namespace report {
namespace {

void write_string(std::string& out, std::string_view text) {
  const std::string valid = valid_utf8(text);
  out += boost::json::serialize(boost::json::string_view(valid.data(), valid.size()));
}

void write_value(std::string& out, const boost::json::value& value, int depth) {
  auto newline = [&](int level) {
    out += '\n';
    out.append(static_cast<std::size_t>(level) * 2, ' ');
  };
  if (const boost::json::object* object = value.if_object()) {
    if (object->empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    for (const auto& member : *object) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      write_string(out, member.key());
      out += ": ";
      write_value(out, member.value(), depth + 1);
    }
    newline(depth);
    out += '}';
  } else if (const boost::json::array* array = value.if_array()) {
    if (array->empty()) {
      out += "[]";
      return;
    }
    out += '[';
    bool first = true;
    for (const boost::json::value& element : *array) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      write_value(out, element, depth + 1);
    }
    newline(depth);
    out += ']';
  } else if (const boost::json::string* string = value.if_string()) {
    write_string(out, *string);
  } else {
    out += boost::json::serialize(value);  // numbers, booleans, null
  }
}

}  // namespace

std::string pretty_json(const boost::json::value& value) {
  std::string out;
  write_value(out, value, 0);
  out += '\n';
  return out;
}

std::string pretty_json_nested(const boost::json::value& value, int depth) {
  std::string out;
  write_value(out, value, depth);
  return out;
}

}  // namespace report
