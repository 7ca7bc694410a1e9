#include "probe/sip/server_session.hpp"

#include <algorithm>

#include "tls/text.hpp"

namespace probe {

std::optional<std::string> untrusted_application(const tls::HandshakeRecord& record,
                                                 const std::vector<std::string>& trusted) {
  if (trusted.empty()) return std::nullopt;
  std::vector<std::string> names;
  if (!record.peer_chain.empty()) {
    const tls::CertificateInfo& leaf = record.peer_chain.front().info();
    if (!leaf.common_name.empty()) names.push_back(leaf.common_name);
    for (const std::string& dns : leaf.san_dns) {
      if (std::find(names.begin(), names.end(), dns) == names.end()) names.push_back(dns);
    }
  }
  for (const std::string& name : names) {
    for (const std::string& fqdn : trusted) {
      if (tls::iequals(name, fqdn)) return std::nullopt;
    }
  }
  return "client certificate names " +
         (names.empty() ? std::string("no DNS name") : tls::joined(names)) +
         ", none of the trusted applications (" + tls::joined(trusted) + ")";
}

void SipSessionWatch::update(const std::function<void(SipSessionFacts&)>& change) {
  {
    std::lock_guard lock(mutex_);
    change(facts_);
  }
  changed_.notify_all();
}

SipSessionFacts SipSessionWatch::wait_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, deadline, [this] { return facts_.settled(); });
  return facts_;
}

SipServerSession::SipServerSession(std::shared_ptr<tls::EstablishedConnection> connection,
                                   const tls::HandshakeRecord& record,
                                   const SipServerConfig& config, SipLog log,
                                   std::shared_ptr<SipSessionWatch> watch)
    : connection_(std::move(connection)),
      record_(record),
      config_(config),
      log_(std::move(log)),
      watch_(std::move(watch)),
      mock_(config.mock) {}

void SipServerSession::note(const std::function<void(SipSessionFacts&)>& change) {
  if (watch_) watch_->update(change);
}

void SipServerSession::start() {
  note([](SipSessionFacts& facts) { facts.started = true; });
  // Lync accepts the TLS connection, then looks the certificate's names up
  // in its topology and, finding none, closes without a word of SIP.
  if (auto why = untrusted_application(record_, config_.trusted_applications)) {
    note([&](SipSessionFacts& facts) { facts.untrusted_application = *why; });
    return close("closing: " + *why);
  }
  log_("SIP session with " + record_.peer_address + " started");
  read();
}

void SipServerSession::read() {
  connection_->async_read_some(config_.idle_timeout,
                               [self = shared_from_this()](mtls::Result<std::string> bytes) {
                                 self->on_read(std::move(bytes));
                               });
}

void SipServerSession::on_read(mtls::Result<std::string> bytes) {
  if (!bytes) return close("SIP session ended: " + bytes.error().message);
  sip::SessionOutput out = mock_.feed(*bytes);
  for (const std::string& line : out.log) log_(line);
  if (!out.served.empty() || out.keep_alives || !out.framing_error.empty()) {
    note([&](SipSessionFacts& facts) {
      facts.requests.insert(facts.requests.end(), out.served.begin(), out.served.end());
      facts.keep_alives += out.keep_alives;
      if (facts.framing_error.empty()) facts.framing_error = out.framing_error;
    });
  }
  for (std::string& wire : out.to_send) outbox_.push_back(std::move(wire));
  close_after_writing_ = out.close_now;
  if (outbox_.empty()) {
    if (close_after_writing_) return close("SIP session closed after a framing error");
    return read();
  }
  write_next();
}

void SipServerSession::write_next() {
  std::string wire = std::move(outbox_.front());
  outbox_.pop_front();
  connection_->async_write(
      std::move(wire), config_.write_timeout,
      [self = shared_from_this()](mtls::Status written) { self->on_write(std::move(written)); });
}

void SipServerSession::on_write(mtls::Status written) {
  if (!written) return close("SIP session ended: " + written.error().message);
  if (!outbox_.empty()) return write_next();
  if (close_after_writing_) return close("SIP session closed after a framing error");
  read();
}

void SipServerSession::close(const std::string& why) {
  note([&](SipSessionFacts& facts) { facts.ended = why; });
  log_(record_.peer_address + ": " + why);
  connection_->close();
}

}  // namespace probe
