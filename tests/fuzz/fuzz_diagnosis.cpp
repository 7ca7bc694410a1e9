// Handshake diagnosis from hand-built records: alerts (codes, phases,
// directions), acceptable-CA lists (names and DER from the input, sizes up
// to and past the TLS limit), errors and flags, for both roles. Every
// combination must give findings without crashing.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>

#include "probe/diagnosis/handshake.hpp"
#include "tls/store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  tls::HandshakeRecord record;
  record.role = input.ConsumeBool() ? tls::HandshakeRole::server : tls::HandshakeRole::client;
  record.tcp_connected = input.ConsumeBool();
  record.handshake_completed = input.ConsumeBool();
  const int version = input.ConsumeIntegralInRange<int>(-1, 3);
  if (version >= 0) record.protocol_version = static_cast<tls::TlsVersion>(version);
  record.peer_sent_certificate = input.ConsumeBool();
  record.certificate_request_received = input.ConsumeBool();
  record.peer_rejected_us = input.ConsumeBool();
  record.peer_rejected_us_after_handshake = input.ConsumeBool();
  record.waited_for_verdict = input.ConsumeBool();
  record.peer_sent_nothing = input.ConsumeBool();
  record.error = static_cast<tls::HandshakeError>(
      input.ConsumeIntegralInRange<int>(0, static_cast<int>(tls::HandshakeError::local_error)));
  record.error_message = input.ConsumeRandomLengthString(200);
  record.non_tls_protocol = input.PickValueInArray({"", "HTTP", "SIP"});
  record.first_bytes_received = input.ConsumeRandomLengthString(64);

  const int alerts = input.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < alerts; ++i) {
    tls::AlertRecord alert;
    alert.sent = input.ConsumeBool();
    alert.fatal = input.ConsumeBool();
    alert.code = input.ConsumeIntegralInRange<int>(0, 255);
    alert.name = input.ConsumeRandomLengthString(32);
    alert.phase =
        input.ConsumeBool() ? tls::AlertPhase::after_handshake : tls::AlertPhase::during_handshake;
    if (alert.fatal && !alert.sent && !record.rejection_alert) record.rejection_alert = alert;
    record.alerts.push_back(std::move(alert));
  }

  // Acceptable CA names: many small ones, or a few large ones (the TLS
  // limit on the list is 2^16-1 bytes).
  const int names = input.ConsumeIntegralInRange<int>(0, 300);
  const std::size_t name_bytes = input.ConsumeIntegralInRange<std::size_t>(0, 2048);
  std::vector<tls::CaName> sent;
  for (int i = 0; i < names && input.remaining_bytes() > 0; ++i) {
    tls::CaName name;
    name.subject = input.ConsumeRandomLengthString(128);
    name.der.assign(name_bytes, static_cast<std::uint8_t>(i));
    record.acceptable_ca_der_bytes += name.der.size() + 2;
    if (record.role == tls::HandshakeRole::client)
      record.acceptable_ca_names.push_back(name);
    else
      sent.push_back(name);
  }
  if (!sent.empty())
    record.acceptable_ca_names_sent = std::make_shared<const std::vector<tls::CaName>>(sent);

  tls::Store store;
  probe::LiveContext context;
  context.us = input.ConsumeBool() ? probe::Side::bems : probe::Side::lync;
  context.ours = &store;
  context.expected_name = input.ConsumeRandomLengthString(64);
  (void)probe::diagnose_handshake(record, context);
  return 0;
}
