// OCSP checks (RFC 6960): build a request with a SHA-1 CertID and a nonce,
// POST it to each AIA responder, and verify the answer: who signed it (the
// issuer, or a responder the issuer certified for OCSP signing), the nonce
// when echoed, the dates, and that it speaks about this serial.
#include "tls/detail/revocation_internal.hpp"
#include "tls/revocation.hpp"

#include <fstream>

namespace tls {

using namespace revocation_internal;

namespace {

// The serials a response does answer for, to explain a mismatch.
std::string answered_serials(OCSP_BASICRESP* basic) {
  std::string list;
  for (int i = 0; i < OCSP_resp_count(basic); ++i) {
    ASN1_INTEGER* serial = nullptr;
    const OCSP_CERTID* id = OCSP_SINGLERESP_get0_id(OCSP_resp_get0(basic, i));
    OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial, const_cast<OCSP_CERTID*>(id));
    if (!list.empty()) list += ", ";
    list += serial ? serial_hex(serial) : "?";
  }
  return list.empty() ? "no certificate" : "serial " + list;
}

// A delegated responder must be certified by the issuer itself for OCSP
// signing (RFC 6960 4.2.2.2); anything else could speak for any CA.
std::optional<std::string> delegated_signer_problem(X509* signer, const Certificate& issuer) {
  const std::string who = name_text(X509_get_subject_name(signer));
  if (X509_NAME_cmp(X509_get_issuer_name(signer), X509_get_subject_name(issuer.native())) != 0 ||
      X509_verify(signer, X509_get0_pubkey(issuer.native())) != 1) {
    clear_openssl_errors();
    return "the OCSP response is signed by " + who + ", which is neither the issuer " +
           issuer.subject() + " nor a responder it certified";
  }
  if (!(X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) ||
      !(X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN))
    return "the OCSP responder certificate " + who + " lacks the OCSP Signing extended key usage";
  if (X509_cmp_current_time(X509_get0_notAfter(signer)) < 0)
    return "the OCSP responder certificate " + who + " has expired";
  if (X509_cmp_current_time(X509_get0_notBefore(signer)) > 0)
    return "the OCSP responder certificate " + who + " is not valid yet";
  return std::nullopt;
}

}  // namespace

namespace revocation_internal {

RevocationStatus evaluate_ocsp_response(const std::string& response_der, OCSP_REQUEST* request,
                                        const Certificate& certificate, const Certificate& issuer,
                                        const RevocationOptions& options, RevocationSource source,
                                        const std::string& url, const std::string& content_type) {
  RevocationStatus status;
  status.source = source;
  status.url = url;
  const std::string from =
      url.empty() ? "the stapled OCSP response" : "the OCSP answer from " + url;

  const auto* bytes = reinterpret_cast<const unsigned char*>(response_der.data());
  OcspResponsePtr response(
      d2i_OCSP_RESPONSE(nullptr, &bytes, static_cast<long>(response_der.size())));
  if (!response) {
    clear_openssl_errors();
    return failed(status, RevocationStatus::unavailable, RevocationProblem::not_parsable,
                  from + " is not an OCSP response (" +
                      describe_unexpected(response_der, content_type) + ")");
  }
  const int response_status = OCSP_response_status(response.get());
  if (response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL)
    return failed(status, RevocationStatus::unavailable, RevocationProblem::responder_error,
                  from + " is an error: " + OCSP_response_status_str(response_status));
  OcspBasicResponsePtr basic(OCSP_response_get1_basic(response.get()));
  if (!basic) {
    clear_openssl_errors();
    return failed(status, RevocationStatus::unavailable, RevocationProblem::not_parsable,
                  from + " holds no basic OCSP response");
  }

  // 1 = echoed and equal, -1 = requested but not echoed (allowed: many
  // responders pre-sign), 2/3 = none asked; 0 = echoed but different.
  if (request && OCSP_check_nonce(request, basic.get()) == 0)
    return failed(status, RevocationStatus::unavailable, RevocationProblem::untrusted_answer,
                  from +
                      " echoes a different nonce than the request's (a replayed or "
                      "mixed-up answer)");

  X509StackPtr issuer_only(sk_X509_new_null());
  sk_X509_push(issuer_only.get(), X509_dup(issuer.native()));
  X509* signer = nullptr;
  if (OCSP_resp_get0_signer(basic.get(), &signer, issuer_only.get()) != 1 || !signer) {
    clear_openssl_errors();
    return failed(status, RevocationStatus::unavailable, RevocationProblem::untrusted_answer,
                  from + " is signed by a responder that is neither the issuer " +
                      issuer.subject() + " nor a certificate included in the response");
  }
  if (X509_cmp(signer, issuer.native()) != 0) {
    if (auto problem = delegated_signer_problem(signer, issuer))
      return failed(status, RevocationStatus::unavailable, RevocationProblem::untrusted_answer,
                    from + ": " + *problem);
  }
  X509StackPtr signer_only(sk_X509_new_null());
  sk_X509_push(signer_only.get(), X509_dup(signer));
  X509StorePtr no_store(X509_STORE_new());
  // The signer was chosen and vetted above, so only the signature is left:
  // NOINTERN keeps OpenSSL to that signer, NOVERIFY skips its own chain walk.
  if (OCSP_basic_verify(basic.get(), signer_only.get(), no_store.get(),
                        OCSP_NOINTERN | OCSP_NOVERIFY) != 1) {
    clear_openssl_errors();
    return failed(status, RevocationStatus::unavailable, RevocationProblem::untrusted_answer,
                  from + " has a signature that does not verify with the key of " +
                      name_text(X509_get_subject_name(signer)));
  }

  OcspCertIdPtr id(OCSP_cert_to_id(EVP_sha1(), certificate.native(), issuer.native()));
  int cert_status = -1, reason = -1;
  ASN1_GENERALIZEDTIME *revoked_at = nullptr, *this_update = nullptr, *next_update = nullptr;
  if (!id || OCSP_resp_find_status(basic.get(), id.get(), &cert_status, &reason, &revoked_at,
                                   &this_update, &next_update) != 1) {
    clear_openssl_errors();
    return failed(status, RevocationStatus::unavailable, RevocationProblem::not_covered,
                  from + " answers for " + answered_serials(basic.get()) + ", not for serial " +
                      certificate.info().serial_hex + " of " + issuer.subject());
  }

  const auto now = Clock::now();
  status.this_update = to_time_point(this_update);
  if (next_update) status.next_update = to_time_point(next_update);
  stamp_age(status);
  if (*status.this_update > now + options.skew)
    return failed(
        status, RevocationStatus::unavailable, RevocationProblem::out_of_date,
        from + " is not valid yet: its thisUpdate is " + format_time(*status.this_update));
  if (status.next_update && *status.next_update < now - options.skew) {
    // Only a CRL past its nextUpdate is "stale" (kept as a last resort); an
    // expired OCSP answer is simply unusable.
    status.stale = false;
    return failed(status, RevocationStatus::unavailable, RevocationProblem::out_of_date,
                  from + " has expired: its nextUpdate was " + format_time(*status.next_update));
  }
  status.stale = false;

  switch (cert_status) {
    case V_OCSP_CERTSTATUS_GOOD:
      status.kind = RevocationStatus::good;
      break;
    case V_OCSP_CERTSTATUS_REVOKED:
      status.kind = RevocationStatus::revoked;
      status.revocation_time = to_time_point(revoked_at);
      if (reason >= 0) status.reason = crl_reason_name(reason);
      break;
    default:
      status.kind = RevocationStatus::unknown;
      status.problem = RevocationProblem::not_covered;
      status.error = from + " says the certificate (serial " + certificate.info().serial_hex +
                     ") is unknown to the responder";
  }
  return status;
}

FetchedOcspResponse query_ocsp(const Certificate& certificate, const Certificate& issuer,
                               const std::string& url, const RevocationOptions& options,
                               std::chrono::milliseconds budget) {
  FetchedOcspResponse answer;
  answer.status.source = RevocationSource::ocsp;
  answer.status.url = url;
  answer.status.kind = RevocationStatus::unavailable;
  OcspRequestPtr request(OCSP_REQUEST_new());
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), certificate.native(), issuer.native());
  if (!id || !OCSP_request_add0_id(request.get(), id) ||
      (options.ocsp_nonce && !OCSP_request_add1_nonce(request.get(), nullptr, -1))) {
    answer.status.problem = RevocationProblem::responder_error;
    answer.status.error = "cannot build the OCSP request: " + take_openssl_errors();
    return answer;
  }
  unsigned char* der = nullptr;
  int size = i2d_OCSP_REQUEST(request.get(), &der);
  std::unique_ptr<unsigned char, OpensslFree> owned(der);
  HttpRequest post;
  post.url = url;
  post.method = "POST";
  post.content_type = "application/ocsp-request";
  post.accept = "application/ocsp-response";
  post.body.assign(reinterpret_cast<const char*>(der), size > 0 ? size : 0);
  HttpClientOptions http = options.http;
  http.timeout = std::min(http.timeout, budget);
  HttpResult fetched = http_fetch(post, http);
  if (!fetched.ok()) {
    answer.status.problem = RevocationProblem::fetch_failed;
    answer.status.error = fetched.error;
    answer.no_response = fetched.status == 0;
    return answer;
  }
  answer.status = evaluate_ocsp_response(fetched.body, request.get(), certificate, issuer, options,
                                         RevocationSource::ocsp, url, fetched.content_type);
  answer.der.assign(fetched.body.begin(), fetched.body.end());
  return answer;
}

RevocationStatus check_ocsp_until(const Certificate& certificate, const Certificate& issuer,
                                  const RevocationOptions& options,
                                  SteadyClock::time_point deadline) {
  RevocationCache::Impl* cache = options.cache ? &options.cache->impl() : nullptr;
  // RFC 6960 4.1.1: a CertID is the issuer and the serial; the responder is
  // part of the key because two responders may well disagree.
  auto key = [&](const std::string& url) {
    return issuer.sha256() + "|" + certificate.info().serial_hex + "|" + url;
  };
  auto cached = [&](const std::string& url) -> std::optional<RevocationStatus> {
    if (!cache) return std::nullopt;
    auto kept = cache->answers.kept(key(url), cache->now());
    if (kept) stamp_age(*kept);
    if (!kept)
      kept = cache->failed_urls.known(url, server_of(url, options.http), RevocationSource::ocsp,
                                      cache->now());
    return kept;
  };
  auto query = [&](const std::string& url, std::chrono::milliseconds budget) {
    if (!cache) return query_ocsp(certificate, issuer, url, options, budget).status;
    // A responder that did not answer (for any certificate) is not waited
    // for again until its failure lapses, and then by one caller at a time.
    bool asking = false;
    const std::string server = server_of(url, options.http);
    if (auto failed = cache->failed_urls.known_or_ask(url, server, RevocationSource::ocsp,
                                                      cache->now(), asking))
      return *failed;
    bool failed_now = false;
    AskingAgain asked{*cache, url, asking};
    if (auto busy = server_busy(*cache, options, RevocationSource::ocsp, url, server)) return *busy;
    using Fetched = Remembered<RevocationStatus>::Fetched;
    auto answer =
        cache->answers.get(key(url), cache->now(), wait_for_others_until(options, budget), [&] {
          const auto ticket = cache->servers_asked.asking(server);
          FetchedOcspResponse queried = query_ocsp(certificate, issuer, url, options, budget);
          if (!queried.no_response) cache->failed_urls.reached(server);
          Fetched got{std::move(queried.status), std::nullopt};
          const RevocationStatus& status = got.value;
          if (status.decisive() || status.kind == RevocationStatus::unknown) {
            got.until = cache->keep_until(status.next_update);
          } else if (fetch_cancelled(options)) {
            // Says nothing about the responder.
          } else if (status.problem == RevocationProblem::fetch_failed) {
            // No answer at all: the same for every certificate.
            cache->failed_urls.failed(url, status, cache->now(), cache->keep_failure_until(),
                                      queried.no_response ? server : "");
            failed_now = true;
          } else if (status.problem != RevocationProblem::out_of_date) {
            got.until = cache->keep_failure_until();
          }
          return got;
        });
    asked.asking = asking && !failed_now;
    asked.forget = answer.has_value() && answer->problem != RevocationProblem::fetch_failed;
    if (!answer)
      return gave_up_waiting(options, RevocationSource::ocsp, url, "this responder's answer",
                             budget);
    stamp_age(*answer);
    return *answer;
  };
  return ask_each_url(RevocationSource::ocsp, certificate.info().ocsp_urls,
                      "the certificate names no OCSP responder", options, deadline, query, cached);
}

}  // namespace revocation_internal

FetchedOcspResponse fetch_ocsp_response(const Certificate& certificate, const Certificate& issuer,
                                        const std::string& url, const RevocationOptions& options) {
  const auto started = SteadyClock::now();
  FetchedOcspResponse answer;
  if (auto reason = why_not_fetchable(url)) {
    answer.status =
        unavailable(RevocationSource::ocsp, url, RevocationProblem::not_fetchable, *reason);
  } else {
    answer = query_ocsp(certificate, issuer, url, options, options.http.timeout);
  }
  answer.status.elapsed = since(started);
  return answer;
}

Result<std::vector<std::uint8_t>> load_ocsp_response(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Error{path.string() + ": cannot read: " + ec.message()};
  if (size > kMaxOcspResponseBytes)
    return Error{path.string() + ": " + std::to_string(size) +
                 " bytes is too large for an OCSP response"};
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return Error{path.string() + ": cannot read"};
  const auto* cursor = reinterpret_cast<const unsigned char*>(bytes.data());
  OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &cursor, static_cast<long>(bytes.size())));
  if (!response) {
    clear_openssl_errors();
    return Error{path.string() + ": not a DER OCSP response (" + describe_unexpected(bytes, "") +
                 "); make one with `openssl ocsp ... -respout FILE`"};
  }
  return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
}

RevocationStatus verify_stapled_ocsp(const std::vector<std::uint8_t>& response_der,
                                     const Certificate& certificate, const Certificate& issuer,
                                     const RevocationOptions& options) {
  const auto started = SteadyClock::now();
  std::string bytes(response_der.begin(), response_der.end());
  RevocationStatus status = evaluate_ocsp_response(bytes, nullptr, certificate, issuer, options,
                                                   RevocationSource::stapled_ocsp, "", "");
  status.elapsed = since(started);
  RevocationAttempt attempt;
  attempt.source = RevocationSource::stapled_ocsp;
  attempt.outcome = status.kind;
  attempt.problem = status.problem;
  attempt.error = status.error;
  attempt.elapsed = status.elapsed;
  status.attempts.push_back(attempt);
  return status;
}

}  // namespace tls
