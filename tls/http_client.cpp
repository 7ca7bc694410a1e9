#include "tls/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url.hpp>

#include "tls/dns.hpp"

namespace tls {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// Beast bounds the header but not a chunk-size line, its extensions or the
// trailer: without a cap on the read buffer a server sending one endless
// chunk line is buffered until memory runs out. The body itself does not
// count against this buffer (the parser moves it out as it arrives).
constexpr std::size_t kHeaderLimit = 16u * 1024u;
constexpr std::size_t kReadBufferLimit = 64u * 1024u;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string env(const char* lower_name, const char* upper_name) {
  if (const char* value = std::getenv(lower_name); value && *value) return value;
  if (const char* value = std::getenv(upper_name); value && *value) return value;
  return {};
}

// The host as a resolver wants it: IPv6 literals without brackets.
std::string connect_host(const urls::url_view& url) {
  if (url.host_type() == urls::host_type::ipv6) return url.host_ipv6_address().to_string();
  return url.host();
}

std::string port_of(const urls::url_view& url) {
  return url.has_port() ? std::string(url.port()) : std::string("80");
}

// curl's rules, which is what engineers expect: comma-separated host names or
// domain suffixes (a leading dot optional), "*" for everything; ports ignored.
bool bypasses_proxy(const urls::url_view& url, const std::string& no_proxy) {
  std::string host = lower(connect_host(url));
  std::size_t start = 0;
  while (start <= no_proxy.size()) {
    std::size_t end = no_proxy.find(',', start);
    if (end == std::string::npos) end = no_proxy.size();
    std::string entry = lower(no_proxy.substr(start, end - start));
    start = end + 1;
    entry.erase(
        std::remove_if(entry.begin(), entry.end(), [](unsigned char c) { return std::isspace(c); }),
        entry.end());
    if (entry.empty()) continue;
    if (entry == "*") return true;
    if (entry.front() == '[') {
      auto close = entry.find(']');
      entry = entry.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
      entry = entry.substr(0, entry.find(':'));
    }
    if (!entry.empty() && entry.front() == '.') entry.erase(0, 1);
    if (host == entry) return true;
    if (host.size() > entry.size() && host.ends_with("." + entry)) return true;
  }
  return false;
}

// Where one request goes and what it asks for.
struct Hop {
  std::string url;
  std::string host;  // to connect to (the proxy's when proxied)
  std::string port;
  std::string request_target;  // origin-form, or absolute-form through a proxy
  std::string host_header;
};

struct HopOutcome {
  unsigned status = 0;
  std::string reason;
  std::string location;
  std::string content_type;
  std::string body;
  std::string error;
};

std::string describe_endpoint(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return text + ":" + std::to_string(endpoint.port());
}

std::string read_error(const beast::error_code& ec, bool header_done,
                       const http::response_parser<http::string_body>& parser,
                       std::size_t body_limit) {
  if (ec == http::error::body_limit) {
    std::string text =
        "the response body is larger than the " + describe_size(body_limit) + " limit";
    if (auto length = parser.content_length())
      text += " (Content-Length " + std::to_string(*length) + ")";
    return text;
  }
  if (ec == http::error::header_limit)
    return "the response header is larger than the " + describe_size(kHeaderLimit) + " limit";
  if (ec == http::error::buffer_overflow)
    return "a chunk-size line or trailer of the response is longer than the " +
           describe_size(kReadBufferLimit) + " limit";
  if (ec == http::error::end_of_stream || ec == asio::error::eof ||
      ec == http::error::partial_message)
    return header_done ? "the server closed the connection in the middle of the response body"
                       : "the server closed the connection without answering";
  if (ec.category() == beast::error_code(http::error::bad_version).category())
    return "the answer is not HTTP (" + ec.message() + ")";
  return ec.message();
}

bool is_cancelled(const HttpClientOptions& options) {
  return options.cancelled && options.cancelled->load();
}

constexpr auto kCancelPoll = std::chrono::milliseconds(50);

// The addresses of the hosts fetched from, kept for their DNS TTL (at most
// kKeepAddresses), as an operating system's resolver cache keeps them
// (Windows' DNS Client, which a Front End checking revocation relies on): a
// revocation check then costs no lookup while the answer holds, and does
// not depend on DNS answering at that moment. Measured in the Podman lab:
// aardvark-dns went silent for seconds while a container joined, exactly
// when the new client's handshake made the mock Lync look up pki-http, which
// its start had resolved already. An address that refuses the connection is
// forgotten, so a server that moved is looked up again on the next fetch.
constexpr auto kKeepAddresses = std::chrono::minutes(5);
constexpr std::size_t kMaxHostsKept = 256;

class KnownAddresses {
 public:
  std::optional<std::vector<tcp::endpoint>> find(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto found = kept_.find(key);
    if (found == kept_.end()) return std::nullopt;
    if (found->second.until <= SteadyClock::now()) {
      kept_.erase(found);
      return std::nullopt;
    }
    return found->second.endpoints;
  }

  void keep(const std::string& key, const std::vector<tcp::endpoint>& endpoints,
            std::chrono::seconds ttl) {
    if (ttl.count() <= 0 || endpoints.empty()) return;
    const auto now = SteadyClock::now();
    std::lock_guard lock(mutex_);
    if (kept_.size() >= kMaxHostsKept && !kept_.contains(key)) {
      std::erase_if(kept_, [&](const auto& entry) { return entry.second.until <= now; });
      while (kept_.size() >= kMaxHostsKept) {
        auto first = std::min_element(kept_.begin(), kept_.end(), [](const auto& a, const auto& b) {
          return a.second.until < b.second.until;
        });
        kept_.erase(first);
      }
    }
    kept_.insert_or_assign(
        key, Entry{endpoints, now + std::min<SteadyClock::duration>(ttl, kKeepAddresses)});
  }

  void forget(const std::string& key) {
    std::lock_guard lock(mutex_);
    kept_.erase(key);
  }

 private:
  struct Entry {
    std::vector<tcp::endpoint> endpoints;
    SteadyClock::time_point until;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> kept_;
};

KnownAddresses& known_addresses() {
  static KnownAddresses known;
  return known;
}

// One request and response on one fresh connection, finished by `deadline`.
HopOutcome exchange(const Hop& hop, const HttpRequest& request, const std::string& method,
                    SteadyClock::time_point deadline, const HttpClientOptions& options) {
  const std::size_t body_limit = options.body_limit;
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer(kReadBufferLimit);
  http::response_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(body_limit);
  std::string phase = "resolving " + hop.host;
  HopOutcome outcome;

  // Resolved first, on this loop and within the same deadline: see
  // resolve_host for why not with Asio's resolver.
  std::uint16_t port = 0;
  if (auto [end, parse_error] =
          std::from_chars(hop.port.data(), hop.port.data() + hop.port.size(), port);
      parse_error != std::errc{} || end != hop.port.data() + hop.port.size()) {
    outcome.error = "port '" + hop.port + "' is not a TCP port number";
    return outcome;
  }
  const std::string host_key = lower(hop.host) + ":" + hop.port;
  HostEndpoints resolved;
  const auto known = known_addresses().find(host_key);
  if (known) {
    resolved.endpoints = *known;
  } else {
    resolved =
        resolve_host(io, hop.host, port, deadline, [&options] { return is_cancelled(options); });
    if (resolved.error == DnsError::none)
      known_addresses().keep(host_key, resolved.endpoints, resolved.ttl);
  }
  if (resolved.error != DnsError::none) {
    if (resolved.stopped)
      outcome.error = "cancelled while " + phase;
    else if (resolved.error == DnsError::timeout)
      outcome.error = "no answer within " + std::to_string(options.timeout.count()) +
                      " ms (timed out " + phase + ")";
    else
      outcome.error = resolved.message;
    return outcome;
  }
  const std::vector<tcp::endpoint>& endpoints = resolved.endpoints;

  auto run = [&]() -> asio::awaitable<void> {
    phase = "connecting to " + hop.host + ":" + hop.port;
    auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, kAwait);
    if (connect_ec) {
      if (known) known_addresses().forget(host_key);
      outcome.error =
          "cannot connect to " + hop.host + ":" + hop.port + ": " + connect_ec.message();
      co_return;
    }
    const std::string peer = describe_endpoint(endpoint);

    http::request<http::string_body> message{method == "POST" ? http::verb::post : http::verb::get,
                                             hop.request_target, 11};
    message.set(http::field::host, hop.host_header);
    message.set(http::field::user_agent, "mtlsprobe");
    message.set(http::field::connection, "close");
    if (!request.accept.empty()) message.set(http::field::accept, request.accept);
    if (method == "POST") {
      if (!request.content_type.empty())
        message.set(http::field::content_type, request.content_type);
      message.body() = request.body;
    }
    message.prepare_payload();

    phase = "sending the request to " + peer;
    auto [write_ec, written] = co_await http::async_write(stream, message, kAwait);
    if (write_ec) {
      outcome.error = "cannot send the request to " + peer + ": " + write_ec.message();
      co_return;
    }
    phase = "waiting for the response from " + peer;
    auto [header_ec, header_bytes] =
        co_await http::async_read_header(stream, buffer, parser, kAwait);
    if (header_ec) {
      outcome.error = read_error(header_ec, false, parser, body_limit);
      co_return;
    }
    phase = "reading the response body from " + peer;
    auto [body_ec, body_bytes] = co_await http::async_read(stream, buffer, parser, kAwait);
    if (body_ec) {
      outcome.error = read_error(body_ec, true, parser, body_limit);
      co_return;
    }
    auto& response = parser.get();
    outcome.status = response.result_int();
    outcome.reason = std::string(response.reason());
    outcome.location = std::string(response[http::field::location]);
    outcome.content_type = std::string(response[http::field::content_type]);
    outcome.body = std::move(response.body());
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  };

  asio::co_spawn(io, run, asio::detached);
  while (!io.stopped() && SteadyClock::now() < deadline && !is_cancelled(options))
    io.run_until(std::min(deadline, SteadyClock::now() + kCancelPoll));
  if (!io.stopped()) {
    // Deadline passed: abort whatever step is pending and let it unwind.
    stream.close();
    io.restart();
    io.run();
    outcome = HopOutcome{};
    outcome.error = is_cancelled(options)
                        ? "cancelled while " + phase
                        : "no answer within " + std::to_string(options.timeout.count()) +
                              " ms (timed out " + phase + ")";
  }
  return outcome;
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

std::string describe_size(std::size_t bytes) {
  if (bytes >= 1024u * 1024u && bytes % (1024u * 1024u) == 0)
    return std::to_string(bytes / (1024u * 1024u)) + " MiB";
  if (bytes >= 1024u && bytes % 1024u == 0) return std::to_string(bytes / 1024u) + " KiB";
  return std::to_string(bytes) + " bytes";
}

std::optional<std::string> why_not_fetchable(std::string_view url) {
  auto parsed = urls::parse_uri(url);
  if (!parsed) return "'" + std::string(url) + "' is not a valid URL";
  if (parsed->scheme_id() != urls::scheme::http) {
    std::string scheme = lower(parsed->scheme());
    return scheme + ":// URL " + std::string(url) + " is not fetchable (only http:// URLs are)";
  }
  if (parsed->host().empty()) return "'" + std::string(url) + "' names no host";
  return std::nullopt;
}

std::string server_of(std::string_view url, const HttpClientOptions& options) {
  if (std::string proxy = proxy_for(url, options); !proxy.empty()) return "proxy " + proxy;
  auto parsed = urls::parse_uri(url);
  if (!parsed || parsed->host().empty()) return {};
  return lower(parsed->host()) + ":" + port_of(*parsed);
}

std::string proxy_for(std::string_view url, const HttpClientOptions& options) {
  auto parsed = urls::parse_uri(url);
  if (!parsed) return {};
  if (options.proxy) return *options.proxy;
  std::string proxy = env("http_proxy", "HTTP_PROXY");
  if (proxy.empty()) return {};
  if (bypasses_proxy(*parsed, env("no_proxy", "NO_PROXY"))) return {};
  return proxy;
}

HttpResult http_fetch(const HttpRequest& request, const HttpClientOptions& options) {
  const auto started = SteadyClock::now();
  const auto deadline = started + options.timeout;
  HttpResult result;
  result.final_url = request.url;
  auto finish = [&](std::string error) {
    result.error = std::move(error);
    result.elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
    return result;
  };

  std::string method = request.method;
  std::string current = request.url;
  for (int hop_number = 0;; ++hop_number) {
    result.final_url = current;
    if (auto reason = why_not_fetchable(current)) return finish(*reason);
    if (is_cancelled(options)) return finish(current + ": cancelled before it started");
    urls::url_view url = *urls::parse_uri(current);
    std::string target(url.encoded_target());
    if (target.empty()) target = "/";

    Hop hop;
    hop.url = current;
    hop.host_header = std::string(url.encoded_host_and_port());
    result.proxy = proxy_for(current, options);
    if (result.proxy.empty()) {
      hop.host = connect_host(url);
      hop.port = port_of(url);
      hop.request_target = target;
    } else {
      // Accept "host:port" as well as "http://host:port", as curl does.
      std::string proxy_text = result.proxy;
      if (proxy_text.find("://") == std::string::npos) proxy_text = "http://" + proxy_text;
      auto proxy = urls::parse_uri(proxy_text);
      if (!proxy || proxy->host().empty() || proxy->scheme_id() != urls::scheme::http)
        return finish("the proxy '" + result.proxy + "' is not an http://host:port URL");
      hop.host = connect_host(*proxy);
      hop.port = port_of(*proxy);
      hop.request_target = "http://" + hop.host_header + target;
    }

    HopOutcome outcome = exchange(hop, request, method, deadline, options);
    const std::string via = result.proxy.empty() ? "" : " (through proxy " + result.proxy + ")";
    if (!outcome.error.empty()) return finish(current + via + ": " + outcome.error);
    result.status = outcome.status;
    result.content_type = outcome.content_type;
    result.body = std::move(outcome.body);

    if (is_redirect(outcome.status)) {
      if (outcome.location.empty())
        return finish(current + via + ": HTTP " + std::to_string(outcome.status) +
                      " redirect without a Location header");
      if (hop_number >= options.max_redirects)
        return finish(request.url + ": more than " + std::to_string(options.max_redirects) +
                      " redirects (last to " + outcome.location + ")");
      auto reference = urls::parse_uri_reference(outcome.location);
      urls::url next;
      if (!reference || !urls::resolve(url, *reference, next))
        return finish(current + ": redirect to an invalid URL '" + outcome.location + "'");
      next.remove_fragment();
      // RFC 9110 15.4: 303 turns into GET; browsers (and servers expecting
      // them) do the same for 301 and 302 after a POST.
      if (outcome.status == 303 ||
          ((outcome.status == 301 || outcome.status == 302) && method == "POST"))
        method = "GET";
      current = std::string(next.buffer());
      ++result.redirects;
      result.body.clear();
      continue;
    }
    if (outcome.status < 200 || outcome.status >= 300)
      return finish(current + via + ": HTTP " + std::to_string(outcome.status) +
                    (outcome.reason.empty() ? "" : " " + outcome.reason));
    return finish("");
  }
}

}  // namespace tls
