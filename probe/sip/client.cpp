#include "probe/sip/client.hpp"
#include "probe/sip/presence_formats.hpp"

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <sstream>
#include <variant>
#include <vector>

#include "probe/sip/builders.hpp"

namespace probe::sip {
namespace {

using Steady = std::chrono::steady_clock;

double ms_since(Steady::time_point start) {
  return std::chrono::duration<double, std::milli>(Steady::now() - start).count();
}

// Element names without their namespace prefix: PIDF documents bind the
// RPID and data-model namespaces to whatever prefixes they like.
std::string local_name(const std::string& name) {
  std::size_t colon = name.find(':');
  return colon == std::string::npos ? name : name.substr(colon + 1);
}

const boost::property_tree::ptree* child_named(const boost::property_tree::ptree& tree,
                                               const std::string& name) {
  for (const auto& [key, child] : tree) {
    if (local_name(key) == name) return &child;
  }
  return nullptr;
}

// Any element named `name` anywhere below `tree`.
bool contains_element(const boost::property_tree::ptree& tree, const std::string& name) {
  for (const auto& [key, child] : tree) {
    if (local_name(key) == name || contains_element(child, name)) return true;
  }
  return false;
}

}  // namespace

const char* to_string(ExchangeOutcome outcome) {
  switch (outcome) {
    case ExchangeOutcome::answered:
      return "answered";
    case ExchangeOutcome::closed:
      return "closed";
    case ExchangeOutcome::timed_out:
      return "timed-out";
    case ExchangeOutcome::peer_rejected_us:
      return "peer-rejected-us";
    case ExchangeOutcome::malformed:
      return "malformed";
  }
  return "closed";
}

Client::Client(std::shared_ptr<tls::EstablishedConnection> connection,
               std::chrono::milliseconds timeout)
    : connection_(std::move(connection)), timeout_(timeout) {}

Exchange Client::send(const Message& request, bool wait_for_notify) {
  Exchange exchange;
  exchange.request_line = start_line_text(request);
  auto ended = [&](std::string why) {
    exchange.nothing_received = !received_any_;
    exchange.error = std::move(why);
    if (connection_->record().peer_rejected_us) {
      exchange.outcome = ExchangeOutcome::peer_rejected_us;
    }
    return exchange;
  };

  Steady::time_point started = Steady::now();
  Steady::time_point deadline = started + timeout_;
  auto written = connection_->write(serialize(request), timeout_);
  if (!written) {
    // A peer that dropped us right after the handshake shows up here as a
    // broken pipe as often as on the read.
    exchange.outcome = ExchangeOutcome::closed;
    return ended("could not send " + request.method + ": " + written.error().message);
  }

  auto done = [&] { return exchange.response && (!wait_for_notify || exchange.notify); };
  while (!done()) {
    // Rounded up: rounded down, the read's own timer fired just before the
    // deadline and a slow peer was reported as having closed the connection.
    auto remaining = std::chrono::ceil<std::chrono::milliseconds>(deadline - Steady::now());
    if (remaining.count() <= 0) {
      exchange.outcome = ExchangeOutcome::timed_out;
      return ended("no answer to " + request.method + " within " +
                   std::to_string(timeout_.count()) + " ms");
    }
    auto bytes = connection_->read_some(remaining);
    if (!bytes) {
      bool timed_out = Steady::now() >= deadline;
      exchange.outcome = timed_out ? ExchangeOutcome::timed_out : ExchangeOutcome::closed;
      std::string what = exchange.response ? "NOTIFY after " + exchange.request_line
                                           : "answer to " + request.method;
      return ended(timed_out ? "no " + what + " within " + std::to_string(timeout_.count()) + " ms"
                             : "the peer closed the connection before the " + what + " came (" +
                                   bytes.error().message + ")");
    }
    received_any_ = true;
    for (StreamEvent& event : parser_.feed(*bytes)) {
      if (auto* error = std::get_if<ParseError>(&event)) {
        exchange.outcome = ExchangeOutcome::malformed;
        return ended("the peer's answer is not SIP: " + error->reason);
      }
      auto* message = std::get_if<Message>(&event);
      if (!message) continue;  // a keep-alive pong
      if (message->is_response() && answers(*message, request)) {
        if (!is_final_response(*message)) continue;
        exchange.response = *message;
        exchange.round_trip_ms = ms_since(started);
        exchange.outcome = ExchangeOutcome::answered;
        if (message->status_code >= 300) wait_for_notify = false;
      } else if (message->is_request() && message->method == "NOTIFY" &&
                 message->header("Call-ID") == request.header("Call-ID")) {
        exchange.notify = *message;
        Message ok = make_response(*message, 200, "OK", "mtlsprobe");
        auto acknowledged = connection_->write(serialize(ok), timeout_);
        (void)acknowledged;  // the NOTIFY was seen; a lost 200 changes no finding
      }
    }
  }
  return exchange;
}

std::optional<std::string> presence_state_of(const std::string& pidf) {
  if (!xml_depth_within(pidf)) return std::nullopt;
  boost::property_tree::ptree document;
  try {
    std::istringstream in(pidf);
    boost::property_tree::read_xml(in, document);
  } catch (const boost::property_tree::xml_parser_error&) {
    return std::nullopt;
  }
  const auto* presence = child_named(document, "presence");
  if (!presence) return std::nullopt;
  bool open = false;
  for (const auto& [key, child] : *presence) {
    if (local_name(key) != "tuple") continue;
    const auto* status = child_named(child, "status");
    const auto* basic = status ? child_named(*status, "basic") : nullptr;
    if (basic && basic->data() == "open") open = true;
  }
  if (!open) return "offline";
  if (contains_element(*presence, "busy")) return "busy";
  if (contains_element(*presence, "away")) return "away";
  return "available";
}

}  // namespace probe::sip
