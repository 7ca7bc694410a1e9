// CRL checks: fetch each HTTP distribution point, verify the CRL with the
// issuer's key (RFC 5280 6.3.3), and look the serial up.
#include <fstream>
#include <sstream>

#include "tls/detail/revocation_internal.hpp"
#include "tls/revocation.hpp"

namespace tls {

using namespace revocation_internal;

namespace {

X509CrlPtr parse_crl(const std::string& bytes) {
  BioPtr der(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  X509CrlPtr crl(d2i_X509_CRL_bio(der.get(), nullptr));
  if (!crl) {
    BioPtr pem(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    crl.reset(PEM_read_bio_X509_CRL(pem.get(), nullptr, nullptr, nullptr));
  }
  clear_openssl_errors();
  return crl;
}

// An Issuing Distribution Point may limit a CRL to CA or to end-entity
// certificates (RFC 5280 5.2.5); such a CRL says nothing about the others.
std::optional<std::string> outside_crl_scope(X509_CRL* crl, const Certificate& certificate) {
  std::unique_ptr<ISSUING_DIST_POINT, Free<ISSUING_DIST_POINT_free>> idp(
      static_cast<ISSUING_DIST_POINT*>(
          X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, nullptr, nullptr)));
  if (!idp) return std::nullopt;
  if (idp->onlyuser && certificate.info().is_ca)
    return "the CRL covers only end-entity certificates and this one is a CA";
  if (idp->onlyCA && !certificate.info().is_ca)
    return "the CRL covers only CA certificates and this one is an end-entity certificate";
  return std::nullopt;
}

std::filesystem::path cache_file(const std::filesystem::path& dir, const std::string& url) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(url.data(), url.size(), digest, &size, EVP_sha256(), nullptr);
  static const char hex[] = "0123456789abcdef";
  std::string name;
  for (unsigned i = 0; i < size; ++i) {
    name += hex[digest[i] >> 4];
    name += hex[digest[i] & 0xF];
  }
  return dir / (name + ".crl");
}

std::optional<std::string> read_cache(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Written to a temporary name and renamed, so a concurrent reader never sees
// half a CRL. A cache that cannot be written is not an error: it is a cache.
void write_cache(const std::filesystem::path& file, const std::string& bytes) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  auto temporary = file;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return;
  }
  std::filesystem::rename(temporary, file, ec);
}

}  // namespace

RevocationStatus evaluate_crl(const std::string& crl_bytes, const Certificate& certificate,
                              const Certificate& issuer, const RevocationOptions& options,
                              const std::string& url) {
  CachedCrl held;
  held.url = url;
  held.crl = parse_crl(crl_bytes);
  if (!held.crl) {
    RevocationStatus status;
    status.source = RevocationSource::crl;
    status.url = url;
    return failed(status, RevocationStatus::unavailable, RevocationProblem::not_parsable,
                  (url.empty() ? std::string("the data") : "the answer from " + url) +
                      " is not a CRL (" + describe_unexpected(crl_bytes, "") + ")");
  }
  return judge_crl(held, certificate, issuer, options);
}

RevocationStatus revocation_internal::judge_crl(CachedCrl& held, const Certificate& certificate,
                                                const Certificate& issuer,
                                                const RevocationOptions& options) {
  const std::string& url = held.url;
  RevocationStatus status;
  status.source = RevocationSource::crl;
  status.url = url;
  const std::string where = url.empty() ? "the CRL" : "the CRL from " + url;
  X509_CRL* crl = held.crl.get();

  X509* issuer_x509 = issuer.native();
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer_x509)) != 0)
    return failed(status, RevocationStatus::unknown, RevocationProblem::not_covered,
                  where + " is issued by " + name_text(X509_CRL_get_issuer(crl)) +
                      ", not by the certificate's issuer " + issuer.subject());
  if (auto scope = outside_crl_scope(crl, certificate))
    return failed(status, RevocationStatus::unknown, RevocationProblem::not_covered,
                  where + ": " + *scope);
  if ((X509_get_extension_flags(issuer_x509) & EXFLAG_KUSAGE) &&
      !(X509_get_key_usage(issuer_x509) & KU_CRL_SIGN))
    return failed(status, RevocationStatus::unavailable, RevocationProblem::untrusted_answer,
                  where + " cannot be trusted: the issuer " + issuer.subject() +
                      " has a keyUsage without cRLSign");
  // A shared CRL is verified once per issuer key, not once per certificate.
  const std::string& issuer_id = issuer.sha256();
  bool verified = false;
  {
    std::lock_guard lock(held.mutex);
    verified = held.verified_by.contains(issuer_id);
  }
  if (!verified && X509_CRL_verify(crl, X509_get0_pubkey(issuer_x509)) == 1) {
    verified = true;
    std::lock_guard lock(held.mutex);
    held.verified_by.insert(issuer_id);
  }
  if (!verified) {
    clear_openssl_errors();
    return failed(status, RevocationStatus::unavailable, RevocationProblem::untrusted_answer,
                  where + " has a signature that does not verify with the key of " +
                      issuer.subject() + " (signed by another key, or corrupted)");
  }

  const auto now = Clock::now();
  status.this_update = to_time_point(X509_CRL_get0_lastUpdate(crl));
  if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl))
    status.next_update = to_time_point(next);
  stamp_age(status);
  if (*status.this_update > now + options.skew)
    return failed(
        status, RevocationStatus::unavailable, RevocationProblem::out_of_date,
        where + " is not valid yet: its thisUpdate is " + format_time(*status.this_update));

  X509_REVOKED* entry = nullptr;
  if (X509_CRL_get0_by_serial(crl, &entry, X509_get0_serialNumber(certificate.native())) == 1) {
    // Listed stays revoked even in a stale CRL: revocation is permanent
    // (certificateHold aside, which the reason shows).
    status.kind = RevocationStatus::revoked;
    status.revocation_time = to_time_point(X509_REVOKED_get0_revocationDate(entry));
    std::unique_ptr<ASN1_ENUMERATED, Free<ASN1_ENUMERATED_free>> reason(
        static_cast<ASN1_ENUMERATED*>(
            X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr)));
    if (reason)
      status.reason = crl_reason_name(static_cast<int>(ASN1_ENUMERATED_get(reason.get())));
    return status;
  }
  if (status.stale)
    return failed(
        status, RevocationStatus::unavailable, RevocationProblem::out_of_date,
        where + " is stale: its nextUpdate " + format_time(*status.next_update) + " passed " +
            format_duration(
                std::chrono::duration_cast<std::chrono::seconds>(now - *status.next_update)) +
            " ago");
  status.kind = RevocationStatus::good;
  return status;
}

namespace revocation_internal {

void stamp_age(RevocationStatus& status) {
  const auto now = Clock::now();
  if (status.this_update)
    status.age = std::chrono::duration_cast<std::chrono::seconds>(now - *status.this_update);
  status.stale = status.next_update && *status.next_update < now;
}

}  // namespace revocation_internal

RevocationStatus revocation_internal::check_crl_until(const Certificate& certificate,
                                                      const Certificate& issuer,
                                                      const RevocationOptions& options,
                                                      SteadyClock::time_point deadline) {
  RevocationCache::Impl* cache = options.cache ? &options.cache->impl() : nullptr;
  auto cache_of = [&](const std::string& url) -> std::optional<std::filesystem::path> {
    if (!options.crl_cache_dir) return std::nullopt;
    return cache_file(*options.crl_cache_dir, url);
  };
  auto judge = [&](const CrlAnswer& answer) {
    return answer.crl ? judge_crl(*answer.crl, certificate, issuer, options) : answer.failure;
  };
  // How long the run's cache keeps what a URL gave.
  auto kept_until = [&](const CrlAnswer& answer) -> std::optional<Clock::time_point> {
    if (!cache) return std::nullopt;
    // A failure is kept by failed_urls, which asks a dead server again
    // without holding every caller.
    if (!answer.crl) return std::nullopt;
    std::optional<Clock::time_point> next_update;
    if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(answer.crl->crl.get()))
      next_update = to_time_point(next);
    return cache->keep_until(next_update);
  };
  auto parsed = [](const std::string& url, const std::string& bytes) {
    CrlAnswer answer;
    answer.crl = std::make_shared<CachedCrl>();
    answer.crl->url = url;
    answer.crl->crl = parse_crl(bytes);
    if (!answer.crl->crl) answer.crl.reset();
    return answer;
  };
  // The run's cache first (what an earlier check fetched, still fresh), then
  // the on-disk cache, reused only while fresh: a stale or broken cached CRL
  // is fetched again.
  auto cached = [&](const std::string& url) -> std::optional<RevocationStatus> {
    if (cache) {
      if (auto kept = cache->crls.kept(url, cache->now())) return judge(*kept);
      if (auto failed = cache->failed_urls.known(url, server_of(url, options.http),
                                                 RevocationSource::crl, cache->now()))
        return failed;
    }
    auto file = cache_of(url);
    if (!file) return std::nullopt;
    auto bytes = read_cache(*file);
    if (!bytes) return std::nullopt;
    CrlAnswer from_disk = parsed(url, *bytes);
    if (!from_disk.crl) return std::nullopt;
    auto status = judge(from_disk);
    if (!status.decisive() || status.stale) return std::nullopt;
    if (cache) {
      using Fetched = Remembered<CrlAnswer>::Fetched;
      cache->crls.get(url, cache->now(), deadline, [&] {
        return Fetched{from_disk, kept_until(from_disk)};
      });
    }
    return status;
  };
  auto download = [&](const std::string& url, std::chrono::milliseconds budget) {
    HttpClientOptions http = options.http;
    http.timeout = std::min(http.timeout, budget);
    HttpRequest request;
    request.url = url;
    request.accept = "application/pkix-crl, application/x-pkcs7-crl, */*";
    HttpResult fetched = http_fetch(request, http);
    if (!fetched.ok()) {
      CrlAnswer answer;
      answer.failure =
          unavailable(RevocationSource::crl, url, RevocationProblem::fetch_failed, fetched.error);
      answer.no_response = fetched.status == 0;
      return answer;
    }
    CrlAnswer answer = parsed(url, fetched.body);
    if (!answer.crl) {
      // Only here is the Content-Type known, which often shows "an HTML error page".
      answer.failure =
          unavailable(RevocationSource::crl, url, RevocationProblem::not_parsable,
                      url + " answered something that is not a CRL (" +
                          describe_unexpected(fetched.body, fetched.content_type) + ")");
      return answer;
    }
    auto file = cache_of(url);
    if (file) {
      auto status = judge(answer);
      if (status.decisive() && !status.stale) write_cache(*file, fetched.body);
    }
    return answer;
  };
  auto fetch = [&](const std::string& url, std::chrono::milliseconds budget) {
    if (!cache) return judge(download(url, budget));
    bool asking = false;
    const std::string server = server_of(url, options.http);
    if (auto failed = cache->failed_urls.known_or_ask(url, server, RevocationSource::crl,
                                                      cache->now(), asking))
      return *failed;
    AskingAgain asked{*cache, url, asking};
    if (auto busy = server_busy(*cache, options, RevocationSource::crl, url, server)) return *busy;
    using Fetched = Remembered<CrlAnswer>::Fetched;
    auto answer = cache->crls.get(url, cache->now(), wait_for_others_until(options, budget), [&] {
      const auto ticket = cache->servers_asked.asking(server);
      CrlAnswer got = download(url, budget);
      if (!got.no_response) cache->failed_urls.reached(server);
      if (!got.crl && !fetch_cancelled(options) &&
          got.failure.problem != RevocationProblem::budget_spent) {
        cache->failed_urls.failed(url, got.failure, cache->now(), cache->keep_failure_until(),
                                  got.no_response ? server : "");
        asked.asking = false;
      }
      return Fetched{got, kept_until(got)};
    });
    if (answer && answer->crl) asked.forget = true;
    if (!answer) return gave_up_waiting(options, RevocationSource::crl, url, "this CRL", budget);
    return judge(*answer);
  };
  return ask_each_url(RevocationSource::crl, certificate.info().crl_urls,
                      "the certificate names no CRL distribution point", options, deadline, fetch,
                      cached);
}

}  // namespace tls
