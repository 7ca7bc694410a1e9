#pragma once
// Turns one handshake record into findings: the handshake ids
// (handshake.tcp, handshake.protocol, ...) and, for the peer's chain as it
// arrived, the offline ids judged against our own store.
#include <optional>
#include <string>
#include <vector>

#include "probe/rules/requirements.hpp"
#include "report/model.hpp"
#include "tls/handshake_record.hpp"
#include "tls/store.hpp"

namespace probe {

struct LiveContext {
  Side us = Side::bems;              // our role; the peer has the other one
  const tls::Store* ours = nullptr;  // our store: credentials, roots, intermediates
  std::string expected_name;         // client: the name the peer's certificate must cover
  std::optional<std::string> pool;   // to judge a BEMS peer's names (server role lync)
  std::vector<std::string> instances;
  int warn_days = 30;
  tls::Clock::time_point now = tls::Clock::now();
  // When the report already judges our certificate or the peer's with the
  // offline rules (pair), these are those findings: the handshake findings
  // point to them and the certificate findings are not repeated per handshake.
  const std::vector<report::Finding>* own_judged = nullptr;
  const std::vector<report::Finding>* peer_judged = nullptr;
};

std::vector<report::Finding> diagnose_handshake(const tls::HandshakeRecord& record,
                                                const LiveContext& context);

// The explanation of a received alert in terms of the requirements, and of
// which TLS stacks send it for what.
std::string explain_rejection_alert(int alert_code);

}  // namespace probe
