#pragma once
// Turns one handshake record into findings: the handshake ids
// (handshake.tcp, handshake.protocol, ...) and, for the peer's chain as it
// arrived, the offline ids judged against our own store.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "probe/rules/requirements.hpp"
#include "probe/rules/rules.hpp"
#include "report/model.hpp"
#include "tls/handshake_record.hpp"
#include "tls/store.hpp"

namespace probe {

// Our certificate and the chain we sent, built against our own store: the
// same for every handshake made with the same credentials, so a command that
// makes many (serve, the exporter) builds it once (own_chain_of).
struct OwnChain {
  tls::Certificate leaf;
  std::vector<tls::Certificate> sent;  // after the leaf
  tls::ChainVerification built;
};
std::shared_ptr<const OwnChain> own_chain_of(const tls::Certificate& leaf,
                                             const std::vector<tls::Certificate>& sent,
                                             const tls::Store& ours);

// Our store as the judgement of each peer's chain reads it: the
// certificates the chain rules know (with their files), the intermediates
// and the anchors. Copied out of a Windows-sized store (1,400 certificates)
// for each handshake, it was a sixth of serve's CPU (issue 17): a command
// that judges many handshakes makes it once (judged_against).
struct OurStore {
  const tls::Store* store = nullptr;
  rules::KnownCertificates known;  // intermediate/, then trusted-root/
  std::vector<tls::Certificate> intermediates;
  tls::TrustAnchors anchors;
};
std::shared_ptr<const OurStore> judged_against(const tls::Store& ours);

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
  // Our chain judged once against `ours` (own_chain_of); used when the record
  // sent that leaf and chain, built for the handshake otherwise.
  std::shared_ptr<const OwnChain> own_chain;
  // `ours` made ready once (judged_against); made for the handshake when
  // null or made of another store.
  std::shared_ptr<const OurStore> our_store;
};

std::vector<report::Finding> diagnose_handshake(const tls::HandshakeRecord& record,
                                                const LiveContext& context);

// After the online checks (revocation) have added their findings: a failing
// handshake finding that one of them explains points there instead.
void point_to_online_owners(const tls::HandshakeRecord& record, const LiveContext& context,
                            std::vector<report::Finding>& findings);

// The explanation of a received alert in terms of the requirements, and of
// which TLS stacks send it for what.
std::string explain_rejection_alert(int alert_code);

}  // namespace probe
