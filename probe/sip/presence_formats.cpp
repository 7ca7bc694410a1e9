#include "probe/sip/presence_formats.hpp"

#include "probe/sip/client.hpp"

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <algorithm>
#include <charconv>
#include <sstream>

#include "tls/text.hpp"

namespace probe::sip {
namespace {

using boost::property_tree::ptree;

// "type/subtype;q=0.5" -> "type/subtype".
std::string_view media_type(std::string_view item) {
  return tls::trim_blanks(item.substr(0, item.find(';')));
}

std::string_view local_name(std::string_view name) {
  std::size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

const ptree* child_named(const ptree& tree, std::string_view name) {
  for (const auto& [key, child] : tree) {
    if (local_name(key) == name) return &child;
  }
  return nullptr;
}

std::string attribute(const ptree& element, std::string_view name) {
  const ptree* attributes = child_named(element, "<xmlattr>");
  if (!attributes) return {};
  const ptree* value = child_named(*attributes, name);
  return value ? value->data() : std::string();
}

std::optional<ptree> read_document(const std::string& body) {
  if (!xml_depth_within(body)) return std::nullopt;
  ptree document;
  try {
    std::istringstream in(body);
    boost::property_tree::read_xml(in, document);
  } catch (const boost::property_tree::xml_parser_error&) {
    return std::nullopt;
  }
  return document;
}

std::optional<long> availability_in(const ptree& state) {
  const ptree* availability = child_named(state, "availability");
  if (!availability) return std::nullopt;
  std::string_view text = tls::trim_blanks(availability->data());
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string_view content_type_of(PresenceFormat format) {
  return format == PresenceFormat::msrtc_categories ? kMsrtcCategoriesType : kPidfType;
}

std::string_view to_string(PresenceFormat format) {
  return format == PresenceFormat::msrtc_categories ? "msrtc" : "pidf";
}

std::optional<PresenceFormat> negotiate_presence_format(const Message& subscribe) {
  std::vector<std::string> accepted;
  for (const std::string& line : subscribe.headers_named("Accept")) {
    for (std::string& item : split_header_list(line)) accepted.push_back(std::move(item));
  }
  if (accepted.empty()) return PresenceFormat::pidf;
  for (const std::string& item : accepted) {
    std::string_view type = media_type(item);
    if (tls::iequals(type, kMsrtcCategoriesType)) return PresenceFormat::msrtc_categories;
    if (tls::iequals(type, kPidfType)) return PresenceFormat::pidf;
  }
  return std::nullopt;
}

std::optional<std::string> availability_state(long availability) {
  if (availability < 3000) return std::nullopt;
  if (availability < 6000) return "available";  // 4500-5999 is idle but available
  if (availability < 9000) return "busy";       // 7500-8999 busy and idle
  if (availability < 12000) return "do-not-disturb";
  if (availability < 15000) return "be-right-back";
  if (availability < 18000) return "away";
  return "offline";
}

std::optional<std::string> categories_state_of(const std::string& body) {
  auto document = read_document(body);
  if (!document) return std::nullopt;
  const ptree* categories = child_named(*document, "categories");
  if (!categories) return std::nullopt;
  std::optional<long> any, aggregate;
  for (const auto& [key, category] : *categories) {
    if (local_name(key) != "category" || attribute(category, "name") != "state") continue;
    const ptree* state = child_named(category, "state");
    if (!state) continue;
    auto availability = availability_in(*state);
    if (!availability) continue;
    if (local_name(attribute(*state, "type")) == "aggregateState") aggregate = availability;
    if (!any) any = availability;
  }
  auto chosen = aggregate ? aggregate : any;
  return chosen ? availability_state(*chosen) : std::nullopt;
}

bool xml_depth_within(std::string_view xml, int limit) {
  int depth = 0;
  std::size_t i = 0;
  // Skips from `i` past `terminator`; false when it never comes (the parser
  // then reports the document as malformed without recursing into it).
  auto skip_past = [&](std::string_view terminator) {
    std::size_t end = xml.find(terminator, i);
    if (end == std::string_view::npos) return false;
    i = end + terminator.size();
    return true;
  };
  while ((i = xml.find('<', i)) != std::string_view::npos) {
    std::string_view rest = xml.substr(i);
    if (rest.starts_with("<!--")) {
      if (!skip_past("-->")) return true;
    } else if (rest.starts_with("<![CDATA[")) {
      if (!skip_past("]]>")) return true;
    } else if (rest.starts_with("<?")) {
      if (!skip_past("?>")) return true;
    } else if (rest.starts_with("<!")) {
      if (!skip_past(">")) return true;
    } else if (rest.starts_with("</")) {
      depth = std::max(0, depth - 1);
      if (!skip_past(">")) return true;
    } else {
      // An element start: find its '>' outside quoted attribute values.
      char quote = 0;
      std::size_t j = i + 1;
      for (; j < xml.size(); ++j) {
        const char c = xml[j];
        if (quote) {
          if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
          quote = c;
        } else if (c == '>') {
          break;
        }
      }
      if (j >= xml.size()) return true;
      if (xml[j - 1] != '/' && ++depth > limit) return false;
      i = j + 1;
    }
  }
  return true;
}

bool is_batch_subscription(const Message& subscribe) {
  auto type = subscribe.header("Content-Type");
  return type && tls::iequals(media_type(*type), kBatchSubscribeType);
}

mtls::Result<BatchSubscription> parse_batch_subscription(const std::string& body) {
  auto document = read_document(body);
  if (!document) return mtls::Error{"the batch subscription body is not XML (or nests too deep)"};
  const ptree* batch = child_named(*document, "batchSub");
  const ptree* action = batch ? child_named(*batch, "action") : nullptr;
  const ptree* list = action ? child_named(*action, "adhocList") : nullptr;
  if (!list) return mtls::Error{"the batch subscription has no batchSub/action/adhocList"};
  BatchSubscription subscription;
  for (const auto& [key, resource] : *list) {
    if (local_name(key) != "resource") continue;
    std::string uri = attribute(resource, "uri");
    if (uri.empty()) return mtls::Error{"a resource of the batch subscription has no uri"};
    if (subscription.resources.size() == kMaxBatchResources)
      return mtls::Error{"the batch subscription lists more than " +
                         std::to_string(kMaxBatchResources) + " resources"};
    subscription.resources.push_back(std::move(uri));
  }
  if (subscription.resources.empty())
    return mtls::Error{"the batch subscription's adhocList names no resource"};
  if (const ptree* categories = child_named(*action, "categoryList")) {
    for (const auto& [key, category] : *categories) {
      if (local_name(key) == "category")
        subscription.categories.push_back(attribute(category, "name"));
    }
  }
  return subscription;
}

std::optional<std::string> notify_presence_state(const Message& notify) {
  auto type = notify.header("Content-Type");
  if (type && tls::iequals(media_type(*type), kMsrtcCategoriesType))
    return categories_state_of(notify.body);
  return presence_state_of(notify.body);
}

}  // namespace probe::sip
