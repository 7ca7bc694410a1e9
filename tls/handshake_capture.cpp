#include "tls/detail/handshake_capture.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cctype>

#include "tls/alerts.hpp"

namespace tls::detail {

PreparedTrust::PreparedTrust(PeerTrust given)
    : trust(std::move(given)),
      anchors(TrustAnchors::shared(trust.roots, trust.policy.system_roots)) {}

namespace {

int capture_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

Capture* capture_of(const SSL* ssl) {
  return ssl ? static_cast<Capture*>(SSL_get_ex_data(ssl, capture_index())) : nullptr;
}

Certificate share(X509* x509) {
  X509_up_ref(x509);
  return Certificate(x509);
}

std::vector<CaName> ca_names(const STACK_OF(X509_NAME) * names) {
  std::vector<CaName> result;
  if (!names) return result;
  for (int i = 0; i < sk_X509_NAME_num(names); ++i) {
    const X509_NAME* name = sk_X509_NAME_value(names, i);
    CaName entry;
    entry.subject = one_line_name(name);
    const unsigned char* der = nullptr;
    size_t size = 0;
    if (X509_NAME_get0_der(const_cast<X509_NAME*>(name), &der, &size) == 1)
      entry.der.assign(der, der + size);
    result.push_back(std::move(entry));
  }
  return result;
}

void set_acceptable_ca_names(HandshakeRecord& record, const STACK_OF(X509_NAME) * names) {
  record.acceptable_ca_names = ca_names(names);
  record.acceptable_ca_der_bytes = 0;
  for (const CaName& name : record.acceptable_ca_names)
    record.acceptable_ca_der_bytes += name.der.size();
}

// Order and completeness of what the peer presented, judged by names and
// signatures only (trust is verify_chain's business). A pair that a trusted
// `verified` path holds already had its signature checked there: checking it
// again was a tenth of the CPU of a `connect` beyond s_client's (callgrind).
void judge_presented_chain(HandshakeRecord& record, const std::vector<Certificate>& roots,
                           const ChainVerification* verified = nullptr) {
  const std::vector<Certificate>& chain = record.peer_chain;
  if (chain.empty()) return;
  auto issued = [&](const Certificate& child, const Certificate& issuer) {
    if (verified && verified->trusted)
      for (std::size_t j = 0; j + 1 < verified->chain.size(); ++j)
        if (verified->chain[j].same_as(child) && verified->chain[j + 1].same_as(issuer))
          return true;
    return child.issued_by(issuer);
  };
  bool in_order = true;
  for (size_t i = 0; i + 1 < chain.size(); ++i)
    if (!issued(chain[i], chain[i + 1])) in_order = false;
  record.peer_chain_in_order = in_order;
  const Certificate& last = chain.back();
  bool ends_at_anchor = last.self_signed();
  for (const Certificate& root : roots)
    if (last.same_as(root) || issued(last, root)) ends_at_anchor = true;
  record.peer_chain_complete = in_order && ends_at_anchor;
  clear_openssl_errors();
}

// Server: the client sent status_request. Returning NOACK leaves the
// extension unanswered, which is what a server without a response does.
int on_status_request(SSL* ssl, void* /*arg*/) {
  Capture* capture = capture_of(ssl);
  if (!capture) return SSL_TLSEXT_ERR_NOACK;
  capture->record.ocsp_staple.requested = true;
  const auto& staple = capture->ocsp_staple;
  if (!staple || staple->empty()) return SSL_TLSEXT_ERR_NOACK;
  // OpenSSL takes ownership of the buffer and frees it with OPENSSL_free.
  auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(staple->data(), staple->size()));
  if (!copy || SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(staple->size())) != 1) {
    OPENSSL_free(copy);
    return SSL_TLSEXT_ERR_NOACK;
  }
  capture->record.ocsp_staple.present = true;
  return SSL_TLSEXT_ERR_OK;
}

// The certificate that issued `leaf`, from what the peer sent, what our
// verification built, or our own roots and intermediates.
std::optional<Certificate> issuer_of(const Certificate& leaf, const Capture& capture) {
  const HandshakeRecord& record = capture.record;
  if (record.peer_verification && record.peer_verification->chain.size() > 1 &&
      leaf.issued_by(record.peer_verification->chain[1]))
    return record.peer_verification->chain[1];
  if (!capture.trust) return std::nullopt;
  for (const auto* candidates :
       {&record.peer_chain, &capture.trust->trust.intermediates, &capture.trust->trust.roots})
    for (const Certificate& candidate : *candidates)
      if (!candidate.same_as(leaf) && leaf.issued_by(candidate)) return candidate;
  return std::nullopt;
}

// Client: what the server stapled, verified for its leaf.
void read_stapled_ocsp(SSL* ssl, Capture& capture) {
  OcspStapleRecord& staple = capture.record.ocsp_staple;
  const unsigned char* bytes = nullptr;
  long length = SSL_get_tlsext_status_ocsp_resp(ssl, &bytes);
  if (!bytes || length <= 0) return;
  staple.present = true;
  staple.response_der.assign(bytes, bytes + length);
  if (capture.record.peer_chain.empty()) return;
  const Certificate& leaf = capture.record.peer_chain.front();
  if (auto issuer = issuer_of(leaf, capture)) {
    staple.status = verify_stapled_ocsp(staple.response_der, leaf, *issuer);
  } else {
    RevocationStatus unverifiable;
    unverifiable.kind = RevocationStatus::unavailable;
    unverifiable.source = RevocationSource::stapled_ocsp;
    unverifiable.error = "the stapled OCSP response cannot be verified: the issuer of " +
                         leaf.subject() + " is neither sent nor in our stores";
    staple.status = unverifiable;
  }
  clear_openssl_errors();
}

void on_message(int write_p, int /*version*/, int content_type, const void* buffer, size_t length,
                SSL* ssl, void* /*arg*/) {
  Capture* capture = capture_of(ssl);
  if (!capture) return;
  const auto* bytes = static_cast<const unsigned char*>(buffer);
  if (content_type == SSL3_RT_HEADER && !write_p && !capture->first_record_header_seen) {
    capture->first_record_header_seen = true;
    capture->first_bytes.assign(reinterpret_cast<const char*>(bytes), length);
  }
  if (content_type == SSL3_RT_ALERT && length >= 2) {
    AlertRecord alert;
    alert.sent = write_p != 0;
    alert.fatal = bytes[0] == SSL3_AL_FATAL;
    alert.code = bytes[1];
    alert.name = alert_name(alert.code);
    alert.phase =
        SSL_is_init_finished(ssl) ? AlertPhase::after_handshake : AlertPhase::during_handshake;
    capture->record.alerts.push_back(alert);
  }
  if (content_type == SSL3_RT_HANDSHAKE && length >= 1) {
    if (write_p && bytes[0] == SSL3_MT_CERTIFICATE) capture->certificate_message_sent = true;
    if (!write_p && bytes[0] == SSL3_MT_CERTIFICATE_REQUEST)
      capture->record.certificate_request_received = true;
  }
}

// Client: called when the server asked for our certificate, before we answer.
int on_certificate_request(SSL* ssl, void* /*arg*/) {
  Capture* capture = capture_of(ssl);
  if (capture && !SSL_is_server(ssl)) {
    capture->record.certificate_request_received = true;
    set_acceptable_ca_names(capture->record, SSL_get0_peer_CA_list(ssl));
  }
  return 1;
}

int on_server_name(SSL* ssl, int* /*alert*/, void* /*arg*/) {
  Capture* capture = capture_of(ssl);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (capture && name) capture->record.sni_received = name;
  return SSL_TLSEXT_ERR_OK;
}

// Replaces OpenSSL's own chain check: captures the chain exactly as it
// arrived, judges it with verify_chain, and fails with the X509_V_ERR code
// whose alert OpenSSL then sends.
int on_verify_peer(X509_STORE_CTX* store_context, void* /*arg*/) {
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store_context, SSL_get_ex_data_X509_STORE_CTX_idx()));
  Capture* capture = capture_of(ssl);
  X509* leaf = X509_STORE_CTX_get0_cert(store_context);
  if (!capture || !capture->trust || !leaf) {
    X509_STORE_CTX_set_error(store_context, X509_V_ERR_UNSPECIFIED);
    return 0;
  }
  HandshakeRecord& record = capture->record;
  record.peer_sent_certificate = true;
  record.peer_chain.clear();
  record.peer_chain.push_back(share(leaf));
  if (STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(store_context)) {
    for (int i = 0; i < sk_X509_num(sent); ++i) {
      X509* x509 = sk_X509_value(sent, i);
      if (i == 0 && X509_cmp(x509, leaf) == 0) continue;  // OpenSSL passes the leaf first
      record.peer_chain.push_back(share(x509));
    }
  }
  const PreparedTrust& trust = *capture->trust;
  const std::vector<Certificate> presented(record.peer_chain.begin() + 1, record.peer_chain.end());
  VerifyPolicy policy = trust.trust.policy;
  policy.purpose = capture->purpose;
  if (policy.max_depth < 0) policy.max_depth = kMaxVerifyDepth;
  record.peer_verification = verify_chain(
      record.peer_chain.front(),
      path_candidates(record.peer_chain.front(), {&presented, &trust.trust.intermediates}),
      trust.anchors, policy);
  judge_presented_chain(record, trust.trust.roots, &*record.peer_verification);

  if (capture->reject_with_verify_error) {
    record.rejected_with = capture->reject_with_name;
    X509_STORE_CTX_set_error(store_context, *capture->reject_with_verify_error);
    return 0;
  }
  const ChainVerification& verification = *record.peer_verification;
  if (!verification.trusted && capture->reject_untrusted) {
    // Our stricter rules have no X509_V_ERR code of their own: bad_certificate.
    int code =
        verification.openssl_code != 0 ? verification.openssl_code : X509_V_ERR_CERT_REJECTED;
    X509_STORE_CTX_set_error(store_context, code);
    return 0;
  }
  if (capture->client_revocation_check && *capture->client_revocation_check) {
    if (auto revoked = (*capture->client_revocation_check)(verification.chain)) {
      ChainVerification& refused = *record.peer_verification;
      refused.trusted = false;
      refused.reason = ChainError::revoked;
      refused.openssl_code = X509_V_ERR_CERT_REVOKED;  // OpenSSL sends certificate_revoked
      refused.error = revoked->reason;
      refused.error_depth = revoked->depth;
      if (revoked->depth >= 0 && static_cast<std::size_t>(revoked->depth) < refused.chain.size())
        refused.error_certificate = refused.chain[static_cast<std::size_t>(revoked->depth)].info();
      X509_STORE_CTX_set_error(store_context, X509_V_ERR_CERT_REVOKED);
      return 0;
    }
  }
  X509_STORE_CTX_set_error(store_context, X509_V_OK);
  return 1;
}

int openssl_reason(const boost::system::error_code& ec) {
  if (ec.category() != boost::asio::error::get_ssl_category()) return 0;
  return ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
}

// The alerts about a certificate (RFC 5246 7.2.2, RFC 8446 6.2): 41-46, 48
// and 49, not illegal_parameter (47), which is about any handshake field.
bool is_certificate_alert(int code) {
  return (code >= alert::no_certificate && code <= alert::access_denied &&
          code != alert::illegal_parameter) ||
         code == alert::certificate_required;
}

bool looks_like_tls_record(const std::string& header) {
  if (header.size() < 2) return true;  // nothing to judge
  auto type = static_cast<unsigned char>(header[0]);
  auto major = static_cast<unsigned char>(header[1]);
  if (type & 0x80) return true;  // an SSLv2-format ClientHello
  return type >= 20 && type <= 24 && major == 3;
}

void fail(HandshakeRecord& record, HandshakeError error, std::string message) {
  record.error = error;
  record.error_message = std::move(message);
}

using SecurityCallback = int (*)(const SSL*, const SSL_CTX*, int, int, int, void*, void*);

// OpenSSL's own policy (ssl_security_default_callback is not exported).
SecurityCallback default_security_callback() {
  static const SecurityCallback callback = [] {
    SslCtxPtr context(SSL_CTX_new(TLS_method()));
    return context ? SSL_CTX_get_security_callback(context.get()) : nullptr;
  }();
  return callback;
}

// The default security policy, except for the key and signature checks of
// our own certificates (op without SSL_SECOP_PEER).
int allow_own_weak_certificates(const SSL* ssl, const SSL_CTX* ctx, int op, int bits, int nid,
                                void* other, void* ex) {
  const bool own = (op & SSL_SECOP_PEER) == 0;
  const int check = op & ~SSL_SECOP_PEER;
  if (own && (check == SSL_SECOP_EE_KEY || check == SSL_SECOP_CA_KEY || check == SSL_SECOP_CA_MD))
    return 1;
  SecurityCallback fallback = default_security_callback();
  return fallback ? fallback(ssl, ctx, op, bits, nid, other, ex) : 1;
}

// OpenSSL's reason ("ee key too small", "ca md too weak") when its security
// level would refuse our own certificate or chain; empty when it accepts them.
std::string own_chain_security_problem(SSL_CTX* ctx, const Credentials& credentials) {
  std::string problem;
  X509StackPtr chain(sk_X509_new_null());
  for (const Certificate& extra : credentials.chain) {
    X509_up_ref(extra.native());
    sk_X509_push(chain.get(), extra.native());
  }
  SslPtr probe(SSL_new(ctx));
  if (probe && SSL_use_certificate(probe.get(), credentials.leaf.native()) != 1)
    problem = take_openssl_errors();
  if (probe && problem.empty() && SSL_set1_chain(probe.get(), chain.get()) != 1)
    problem = take_openssl_errors();
  clear_openssl_errors();
  return problem;
}

}  // namespace

int openssl_version(TlsVersion version) {
  switch (version) {
    case TlsVersion::tls1_0:
      return TLS1_VERSION;
    case TlsVersion::tls1_1:
      return TLS1_1_VERSION;
    case TlsVersion::tls1_2:
      return TLS1_2_VERSION;
    case TlsVersion::tls1_3:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

std::optional<TlsVersion> tls_version_of(int openssl) {
  for (TlsVersion version :
       {TlsVersion::tls1_0, TlsVersion::tls1_1, TlsVersion::tls1_2, TlsVersion::tls1_3})
    if (openssl_version(version) == openssl) return version;
  return std::nullopt;
}

std::string one_line_name(const X509_NAME* name) {
  // The same form as CertificateInfo::subject, so names compare as text.
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0,
                     (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | ASN1_STRFLGS_UTF8_CONVERT);
  return bio_to_string(bio.get());
}

std::string recognise_protocol(const std::string& first_bytes) {
  std::string upper;
  for (char c : first_bytes.substr(0, 64))
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto starts = [&](const char* prefix) { return upper.rfind(prefix, 0) == 0; };
  if (starts("SIP/2.0") || upper.find(" SIP/2.0") != std::string::npos ||
      upper.find("SIP:") != std::string::npos)
    return "SIP";
  if (starts("HTTP/") || starts("<HTML") || starts("<!DOCTYPE") || starts("GET ") ||
      starts("POST ") || starts("HEAD ") || starts("PUT ") || starts("CONNECT "))
    return "HTTP";
  if (starts("SSH-")) return "SSH";
  return "";
}

std::string printable(const std::string& bytes) {
  std::string text;
  for (char c : bytes.substr(0, 64)) {
    auto u = static_cast<unsigned char>(c);
    text += (u >= 0x20 && u < 0x7f) ? c : '.';
  }
  return text;
}

Status configure_context(SSL_CTX* ctx, HandshakeRole role, TlsVersion min_version,
                         TlsVersion max_version, const std::optional<Credentials>& credentials,
                         HandshakeRecord& record) {
  if (min_version > max_version)
    return Error{"the minimum TLS version " + to_string(min_version) + " is above the maximum " +
                 to_string(max_version)};
  record.min_version_allowed = min_version;
  record.max_version_allowed = max_version;
  SSL_CTX_set_min_proto_version(ctx, openssl_version(min_version));
  SSL_CTX_set_max_proto_version(ctx, openssl_version(max_version));
  if (min_version < TlsVersion::tls1_2) {
    // OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 MACs) above security level 0;
    // done only when asked for, and recorded so the report says so.
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
    record.security_level_lowered = true;
  }
  SSL_CTX_set_max_cert_list(ctx, kMaxPeerChainBytes);
  SSL_CTX_set_verify_depth(ctx, kMaxVerifyDepth);
  // We send exactly the configured chain: OpenSSL must not complete it.
  SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  if (role == HandshakeRole::server) SSL_CTX_set_num_tickets(ctx, 0);

  if (credentials) {
    // OpenSSL's security level refuses to send a weak key or a SHA-1 signed
    // certificate of our own; the BEMS (Java) and Lync (schannel) we stand in
    // for send them, and the peer's verdict on them is what we are here to
    // see. The weakness is judged by the key-strength rule, not here.
    record.own_chain_below_security_level = own_chain_security_problem(ctx, *credentials);
    if (!record.own_chain_below_security_level.empty())
      SSL_CTX_set_security_callback(ctx, allow_own_weak_certificates);
    if (SSL_CTX_use_certificate(ctx, credentials->leaf.native()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, credentials->key.native()) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
      return Error{"cannot use the certificate " + credentials->leaf.subject() + ": " +
                   take_openssl_errors()};
    for (const Certificate& extra : credentials->chain)
      if (SSL_CTX_add1_chain_cert(ctx, extra.native()) != 1)
        return Error{"cannot add " + extra.subject() + " to the chain: " + take_openssl_errors()};
  }

  int mode = SSL_VERIFY_PEER;
  if (role == HandshakeRole::server) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx, mode, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, on_verify_peer, nullptr);
  SSL_CTX_set_msg_callback(ctx, on_message);
  if (role == HandshakeRole::client) SSL_CTX_set_cert_cb(ctx, on_certificate_request, nullptr);
  if (role == HandshakeRole::server) {
    SSL_CTX_set_tlsext_servername_callback(ctx, on_server_name);
    SSL_CTX_set_tlsext_status_cb(ctx, on_status_request);
  }
  clear_openssl_errors();
  return Done{};
}

void attach_capture(SSL* ssl, Capture* capture) { SSL_set_ex_data(ssl, capture_index(), capture); }

void read_connection_facts(SSL* ssl, Capture& capture, bool handshake_completed) {
  HandshakeRecord& record = capture.record;
  record.handshake_completed = handshake_completed;
  if (handshake_completed) {
    record.protocol_version = tls_version_of(SSL_version(ssl));
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl))
      record.cipher_suite = SSL_CIPHER_get_name(cipher);
    const unsigned char* alpn = nullptr;
    unsigned int alpn_length = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
    if (alpn) record.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  }
  // When our verify callback did not run (e.g. a resumed session), the
  // session still holds the peer's certificates.
  if (record.peer_chain.empty()) {
    if (X509* leaf = SSL_get0_peer_certificate(ssl)) {
      record.peer_sent_certificate = true;
      record.peer_chain.push_back(share(leaf));
      // The client's stack includes the leaf; the server's does not.
      if (STACK_OF(X509)* rest = SSL_get_peer_cert_chain(ssl)) {
        for (int i = 0; i < sk_X509_num(rest); ++i) {
          X509* x509 = sk_X509_value(rest, i);
          if (i == 0 && X509_cmp(x509, leaf) == 0) continue;
          record.peer_chain.push_back(share(x509));
        }
      }
      if (capture.trust) judge_presented_chain(record, capture.trust->trust.roots);
    }
  }
  if (record.role == HandshakeRole::client && record.acceptable_ca_names.empty())
    set_acceptable_ca_names(record, SSL_get0_peer_CA_list(ssl));
  if (record.role == HandshakeRole::client && record.ocsp_staple.requested &&
      !record.ocsp_staple.present)
    read_stapled_ocsp(ssl, capture);

  if (capture.certificate_message_sent) {
    if (X509* ours = SSL_get_certificate(ssl)) {
      record.our_certificate_sent = share(ours);
      STACK_OF(X509)* chain = nullptr;
      SSL_get0_chain_certs(ssl, &chain);
      record.our_chain_sent.clear();
      for (int i = 0; chain && i < sk_X509_num(chain); ++i)
        record.our_chain_sent.push_back(share(sk_X509_value(chain, i)));
    }
  }
  clear_openssl_errors();
}

std::optional<AlertRecord> late_fatal_alert(const HandshakeRecord& record) {
  for (const AlertRecord& alert : record.alerts)
    if (!alert.sent && alert.fatal && alert.phase == AlertPhase::after_handshake) return alert;
  return std::nullopt;
}

namespace {

// The steps of classify_handshake_failure, in the order a connection fails:
// each names the failure when it recognises it and returns true.

// What the peer sent beyond the first record header is still in the read BIO.
void keep_first_bytes(SSL* ssl, Capture& capture) {
  if (capture.first_record_header_seen && capture.first_bytes.size() < 64 && ssl) {
    char more[64];
    int got = BIO_read(SSL_get_rbio(ssl), more, static_cast<int>(64 - capture.first_bytes.size()));
    if (got > 0) capture.first_bytes.append(more, static_cast<size_t>(got));
  }
  capture.record.first_bytes_received = printable(capture.first_bytes);
  capture.record.peer_sent_nothing = !capture.first_record_header_seen;
}

bool spoke_something_else(const Capture& capture, int reason) {
  return (capture.first_record_header_seen && !looks_like_tls_record(capture.first_bytes)) ||
         reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
         reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST;
}

void fail_not_tls(Capture& capture) {
  HandshakeRecord& record = capture.record;
  record.non_tls_protocol = recognise_protocol(capture.first_bytes);
  std::string what = record.non_tls_protocol.empty() ? "something other than TLS"
                                                     : record.non_tls_protocol + ", not TLS";
  fail(record, HandshakeError::not_tls,
       "the peer spoke " + what + "; its first bytes: \"" + record.first_bytes_received + "\"");
}

// A fatal alert we sent: our verdict on the peer's certificate, or its absence.
bool failed_by_our_alert(HandshakeRecord& record, int reason) {
  std::optional<AlertRecord> sent = record.first_fatal_alert(true);
  if (!sent) return false;
  if (!record.rejected_with.empty()) {
    fail(record, HandshakeError::we_rejected_peer,
         "we rejected the peer's certificate with " + sent->name + " (as configured)");
    return true;
  }
  if (record.peer_verification && !record.peer_verification->trusted) {
    fail(record, HandshakeError::we_rejected_peer,
         "we rejected the peer's certificate with " + sent->name + ": " +
             record.peer_verification->error);
    return true;
  }
  if (record.role == HandshakeRole::server && !record.peer_sent_certificate &&
      (sent->code == alert::certificate_required || sent->code == alert::handshake_failure ||
       reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)) {
    fail(record, HandshakeError::no_peer_certificate,
         "the client sent no certificate; we answered " + sent->name);
    return true;
  }
  return false;
}

// A fatal alert the peer sent: its verdict on us, or no common parameters.
bool failed_by_peer_alert(Capture& capture) {
  HandshakeRecord& record = capture.record;
  std::optional<AlertRecord> received = record.first_fatal_alert(false);
  if (!received) return false;
  bool after_our_certificate =
      capture.certificate_message_sent ||
      (record.role == HandshakeRole::client && record.certificate_request_received);
  if (received->code == alert::protocol_version) {
    fail(record, HandshakeError::no_common_version,
         "the peer sent protocol_version: no TLS version both sides allow");
  } else if (after_our_certificate &&
             (is_certificate_alert(received->code) || received->code == alert::handshake_failure)) {
    // The phase decides, not only the number: a verdict on our certificate
    // can only come once the peer has it (or has asked for it).
    record.peer_rejected_us = true;
    record.rejection_alert = received;
    fail(record, HandshakeError::peer_rejected_us, "the peer rejected us with " + received->name);
  } else if (is_certificate_alert(received->code)) {
    fail(record, HandshakeError::tls_error,
         "the peer sent " + received->name +
             " before it had seen our certificate: it objected to our hello or to its own "
             "configuration, not to our certificate");
  } else if (received->code == alert::handshake_failure ||
             received->code == alert::insufficient_security) {
    fail(record, HandshakeError::no_common_cipher,
         "the peer sent " + received->name +
             " before any certificate: no cipher suite, group or signature algorithm both sides "
             "allow");
  } else {
    fail(record, HandshakeError::tls_error, "the peer sent the alert " + received->name);
  }
  return true;
}

// No alert: OpenSSL's own reason.
bool failed_by_openssl_reason(HandshakeRecord& record, int reason) {
  switch (reason) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
      fail(record, HandshakeError::no_common_version,
           "no TLS version both sides allow (" + record.openssl_error + ")");
      return true;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_CIPHERS_AVAILABLE:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
      fail(record, HandshakeError::no_common_cipher,
           "no cipher suite, group or signature algorithm both sides allow (" +
               record.openssl_error + ")");
      return true;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
      fail(record, HandshakeError::we_rejected_peer,
           "we rejected the peer's certificate (" + record.openssl_error + ")");
      return true;
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      fail(record, HandshakeError::no_peer_certificate, "the client sent no certificate");
      return true;
    case SSL_R_EXCESSIVE_MESSAGE_SIZE:
      fail(record, HandshakeError::tls_error,
           "the peer's certificate chain is larger than " + std::to_string(kMaxPeerChainBytes) +
               " bytes");
      return true;
    default:
      return false;
  }
}

bool peer_closed(const boost::system::error_code& ec, int reason) {
  return ec == boost::asio::ssl::error::stream_truncated || ec == boost::asio::error::eof ||
         ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe ||
         reason == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

}  // namespace

void classify_handshake_failure(SSL* ssl, Capture& capture, const boost::system::error_code& ec,
                                bool timed_out) {
  HandshakeRecord& record = capture.record;
  keep_first_bytes(ssl, capture);
  int reason = openssl_reason(ec);
  if (ec && ec != boost::asio::error::operation_aborted) record.openssl_error = ec.message();

  bool not_tls = spoke_something_else(capture, reason);
  if (not_tls && capture.first_record_header_seen) return fail_not_tls(capture);
  if (timed_out)
    return fail(
        record, HandshakeError::handshake_timeout,
        "no complete TLS handshake within " + std::to_string(capture.handshake_timeout.count()) +
            " ms" +
            (capture.first_record_header_seen ? std::string(": the peer stopped answering part-way")
                                              : std::string(": the peer sent nothing back")));
  if (failed_by_our_alert(record, reason) || failed_by_peer_alert(capture) ||
      failed_by_openssl_reason(record, reason))
    return;
  if (peer_closed(ec, reason))
    return fail(record, HandshakeError::peer_closed,
                record.peer_sent_nothing
                    ? "the peer closed the connection without sending anything (a TCP port check?)"
                    : "the peer closed the connection during the handshake");
  if (not_tls)
    return fail(record, HandshakeError::not_tls,
                "the peer does not speak TLS (" + record.openssl_error + ")");
  return fail(record, HandshakeError::tls_error,
              // Only the reason: readers put it after their own "the handshake failed".
              record.openssl_error.empty() ? std::string("OpenSSL gave no reason")
                                           : "OpenSSL: " + record.openssl_error);
}

}  // namespace tls::detail
