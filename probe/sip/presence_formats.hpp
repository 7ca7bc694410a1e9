#pragma once
// The two presence document formats a Lync / Skype for Business pool speaks,
// chosen by the SUBSCRIBE's Accept header:
//   application/pidf+xml                      RFC 3863 PIDF (+ RPID activities)
//   application/msrtc-event-categories+xml    [MS-PRES] categories: the "state"
//                                             category's aggregate availability
// Lync's own clients ask for the categories; PIDF is what other SIP stacks
// get. Pure: bodies in, states out (and the reverse for the mock).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe/sip/message.hpp"
#include "tls/result.hpp"

namespace probe::sip {

inline constexpr std::string_view kPidfType = "application/pidf+xml";
inline constexpr std::string_view kMsrtcCategoriesType = "application/msrtc-event-categories+xml";

enum class PresenceFormat { pidf, msrtc_categories };
std::string_view content_type_of(PresenceFormat format);
std::string_view to_string(PresenceFormat format);  // "pidf", "msrtc"

// The format to answer a SUBSCRIBE with: the first of the Accept header's
// types we can produce; PIDF when there is no Accept (RFC 3856 6.6: PIDF is
// the default); nullopt when Accept lists neither (answered 406).
std::optional<PresenceFormat> negotiate_presence_format(const Message& subscribe);

// [MS-PRES] 3.7.5.1.1 availability ranges: 3000-4499 available, 4500-5999
// idle (available), 6000-7499 busy, 7500-8999 busy-idle, 9000-11999 do not
// disturb, 12000-14999 be right back, 15000-17999 away, 18000+ offline.
// "available", "busy", "do-not-disturb", "be-right-back", "away", "offline";
// nullopt below 3000.
std::optional<std::string> availability_state(long availability);

// Boost's XML parser recurses once per element level: a NOTIFY body nested
// 9,000 deep (it fits in 64 KiB) overflows the stack. Every body is checked
// with this before it is parsed. Comments, CDATA, processing instructions,
// declarations and quoted attribute values are skipped, so markup hidden in
// them cannot lower the count; a closing tag never takes it below zero.
inline constexpr int kMaxXmlDepth = 32;
bool xml_depth_within(std::string_view xml, int limit = kMaxXmlDepth);

// The state a categories document shows: the availability of its "state"
// category (the aggregateState one when there are several); nullopt when the
// body is no categories document or carries no availability.
std::optional<std::string> categories_state_of(const std::string& body);

// The state a NOTIFY carries, by its Content-Type (PIDF when it has none).
std::optional<std::string> notify_presence_state(const Message& notify);

// [MS-PRES] 2.2.2.4.1 batch subscription: one SUBSCRIBE (to the
// subscriber's own URI, Require: adhoclist, categoryList) whose body lists
// the presentities (adhocList) and the categories (categoryList) wanted;
// Lync's own clients and pools subscribe this way.
inline constexpr std::string_view kBatchSubscribeType = "application/msrtc-adrl-categorylist+xml";
inline constexpr std::string_view kRlmiType = "application/rlmi+xml";
// A batch asking for more is refused: the answer holds a document per entry.
inline constexpr std::size_t kMaxBatchResources = 100;

struct BatchSubscription {
  std::vector<std::string> resources;   // the adhocList's resource URIs, in order
  std::vector<std::string> categories;  // the categoryList's names
};
// The batchSub document of such a SUBSCRIBE; the error says what is wrong
// (not XML, no batchSub/action/adhocList, a resource without uri, more than
// kMaxBatchResources resources).
mtls::Result<BatchSubscription> parse_batch_subscription(const std::string& body);
bool is_batch_subscription(const Message& subscribe);  // by its Content-Type

}  // namespace probe::sip
