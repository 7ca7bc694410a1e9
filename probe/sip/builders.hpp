#pragma once
// Building SIP requests (the probe as a client) and responses (either side
// answering a request it received). Identifiers come from tls::random_hex:
// branch "z9hG4bK" + 64 random bits (RFC 3261 8.1.1.7), tags 64 bits (19.3
// asks for at least 32), Call-ID 128 bits (8.1.1.4).
#include <optional>
#include <string>
#include <string_view>

#include "probe/sip/message.hpp"

namespace probe::sip {

std::string new_branch();
std::string new_tag();
std::string new_call_id();

// "SIP/2.0/TLS host;branch=z9hG4bK..." (an IPv6 host is bracketed).
std::string via_value(std::string_view host, std::string_view transport);

// OPTIONS target_uri with Via (new branch), Max-Forwards 70, From
// <from_uri>;tag=new, To <target_uri>, new Call-ID, CSeq 1 OPTIONS,
// Accept application/sdp, User-Agent mtlsprobe.
Message build_options_request(std::string_view target_uri, std::string_view from_uri,
                              std::string_view via_host, std::string_view transport = "TLS");

// SUBSCRIBE presentity_uri with Event: presence, Accept application/pidf+xml,
// Expires, and Contact <sip:mtlsprobe@via_host;transport=tls> where the
// NOTIFY is to be sent (on the same connection in practice).
Message build_subscribe_presence(std::string_view presentity_uri, std::string_view from_uri,
                                 std::string_view via_host, unsigned expires_seconds = 3600,
                                 std::string_view transport = "TLS");

// A response to `request`: every Via, From, Call-ID and CSeq echoed, To
// echoed with `to_tag` added when it has none (a fresh tag when to_tag is
// empty), "Server: server" when given. No body (Content-Length: 0).
Message make_response(const Message& request, int status_code, std::string_view reason,
                      std::string_view server = {}, std::string_view to_tag = {});

// "200 OK" for a response, "OPTIONS sip:x" for a request: for logs and reports.
std::string start_line_text(const Message& message);
// 1xx is provisional; the probe waits for a final (>= 200) answer.
bool is_final_response(const Message& message);
// Does `response` answer `request`: same Call-ID, CSeq and top Via branch.
bool answers(const Message& response, const Message& request);

}  // namespace probe::sip
