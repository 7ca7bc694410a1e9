#pragma once
// Is a certificate revoked, and can the revocation data be fetched at all?
// CRLs (RFC 5280) from the certificate's HTTP distribution points and OCSP
// (RFC 6960) from its AIA responder, each verified against the issuer. The
// result is plain data: probe/ turns it into findings, report/ renders it.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tls/certificate.hpp"
#include "tls/http_client.hpp"
#include "tls/result.hpp"

namespace tls {

enum class RevocationMode { crl, ocsp, both, off };  // both: OCSP first, then CRL

Result<RevocationMode> parse_revocation_mode(std::string_view text);  // "crl|ocsp|both|off"
std::string to_string(RevocationMode mode);

enum class RevocationSource { none, crl, ocsp, stapled_ocsp };
std::string to_string(RevocationSource source);  // "CRL", "OCSP", "stapled OCSP", ""

// Why a source gave no good or revoked answer. Branch on this; the
// matching `error` text is for people.
enum class RevocationProblem {
  none,              // good or revoked, or nothing was asked
  not_fetchable,     // the URL is not one we fetch (ldap:, file:, ...)
  budget_spent,      // skipped: the revocation time budget was used up
  fetch_failed,      // the HTTP fetch failed (DNS, TCP, timeout, HTTP status, size)
  not_parsable,      // the answer is not a CRL / not an OCSP response
  responder_error,   // an OCSP error status, or the request could not be built
  untrusted_answer,  // signature, signer, key usage or nonce do not check out
  not_covered,       // about another issuer, scope or serial; OCSP "unknown"
  out_of_date,       // not valid yet, expired, or a CRL past its nextUpdate
};

struct RevocationAttempt;

struct RevocationStatus {
  enum Kind {
    good,          // a valid CRL or OCSP response says not revoked
    revoked,       // ... says revoked (see revocation_time, reason)
    unknown,       // the responder does not know the certificate / the CRL does not cover it
    unavailable,   // published, but no source gave a usable answer (see error, attempts)
    not_published  // no HTTP CDP / OCSP URL for the chosen mode, or mode off
  };
  Kind kind = not_published;
  RevocationProblem problem = RevocationProblem::none;
  RevocationSource source = RevocationSource::none;  // of the deciding answer
  std::string url;                                   // of the deciding answer
  // The deciding answer's dates: CRL thisUpdate/nextUpdate, OCSP thisUpdate/nextUpdate.
  std::optional<Clock::time_point> this_update;
  std::optional<Clock::time_point> next_update;
  std::chrono::seconds age{0};  // now - this_update
  bool stale = false;           // a CRL whose nextUpdate has passed was all there was
  std::optional<Clock::time_point> revocation_time;
  std::string reason;  // RFC 5280 CRLReason name, "" when the CA gave none
  std::string error;   // for unknown / unavailable: one line per failed attempt, joined by "; "
  std::chrono::milliseconds elapsed{0};  // all attempts together
  std::vector<RevocationAttempt> attempts;

  // A good or revoked answer: no other source needs asking.
  bool decisive() const { return kind == good || kind == revoked; }
};
std::string to_string(RevocationStatus::Kind kind);  // "good", "revoked", ...

// One try at one source: a CRL distribution point or an OCSP responder.
struct RevocationAttempt {
  RevocationSource source = RevocationSource::none;
  std::string url;
  RevocationStatus::Kind outcome = RevocationStatus::unavailable;
  RevocationProblem problem = RevocationProblem::none;
  std::string error;  // why it gave no answer (empty for good / revoked)
  std::chrono::milliseconds elapsed{0};
  bool from_cache = false;  // CRL read from the on-disk cache
};

class RevocationCache;

struct RevocationOptions {
  RevocationMode mode = RevocationMode::both;
  HttpClientOptions http;  // per-request timeout, size limit, redirects, proxy
  // All attempts for one certificate together; later URLs are skipped (and
  // recorded as skipped) once it is spent.
  std::chrono::milliseconds total_timeout = std::chrono::seconds(30);
  std::optional<std::filesystem::path> crl_cache_dir;  // CRLs reused while fresh
  bool ocsp_nonce = true;
  // Clock skew allowed on OCSP thisUpdate / nextUpdate and CRL thisUpdate.
  std::chrono::seconds skew = std::chrono::minutes(5);
  // Answers remembered across checks (and threads) of one run; null: none.
  std::shared_ptr<RevocationCache> cache;
  // Answer from `cache` alone: what it does not hold is unavailable
  // (budget_spent), nothing is fetched and nothing waited for.
  bool cached_only = false;
  // With `cache`: how long to wait for what other checks are asking (the
  // same answer, or anything of a server already being asked) before this
  // check gives up on it (budget_spent, said so; their answer is kept for
  // later checks). nullopt: wait within this check's own budget. serve's
  // judges set it, so that a server that never answers holds one of them,
  // not all (issue 17: its first timeout left every later handshake unjudged).
  std::optional<std::chrono::milliseconds> wait_for_others;
};

// Revocation answers remembered within one run and shared by every check
// and thread that holds it (connect's targets, serve's handshakes, a fleet
// scan): per CRL URL the parsed CRL (parsed once; its signature verified
// once per issuer) until its nextUpdate, per (issuer, serial, responder)
// the OCSP answer until its nextUpdate, either at most `keep_undated` when
// it names none; and per URL a fetch that failed (for whatever certificate)
// for `keep_failure`, so a dead server costs one timeout per `keep_failure`,
// not one per certificate. When that time is up, one caller at a time in
// the whole cache asks again while the others are given the last failure
// (said to be remembered), so a dead server never holds every caller.
// A URL is fetched by one caller at a time; the others wait for the first
// answer it gives within their own deadline (or options.wait_for_others).
// Bounded: past the limits the entry that expires first is dropped.
// Thread-safe.
class RevocationCache {
 public:
  struct Limits {
    std::size_t max_crls = 64;         // a CRL of 100,000 entries is a few MB parsed
    std::size_t max_answers = 10'000;  // OCSP answers (a few KB each)
    std::chrono::seconds keep_undated = std::chrono::hours(1);
    std::chrono::seconds keep_failure = std::chrono::seconds(30);
    // Tests move time on; null: Clock::now.
    std::function<Clock::time_point()> clock;
  };
  RevocationCache();
  explicit RevocationCache(Limits limits);
  ~RevocationCache();
  RevocationCache(const RevocationCache&) = delete;
  RevocationCache& operator=(const RevocationCache&) = delete;

  struct Counts {
    std::size_t crls = 0;      // CRL URLs held (parsed CRLs and remembered failures)
    std::size_t answers = 0;   // OCSP answers held
    std::size_t fetches = 0;   // fetches made through the cache
    std::size_t hits = 0;      // answers given without a fetch
    std::size_t fetching = 0;  // fetches under way now
  };
  Counts counts() const;

  class Impl;  // tls/detail/revocation_internal.hpp
  Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// `issuer` must be the certificate that issued `certificate` (its key signs
// the CRL or the OCSP response, or certifies the OCSP responder).
RevocationStatus check_revocation(const Certificate& certificate, const Certificate& issuer,
                                  const RevocationOptions& options);

// One source only, every URL of it in order until one answers.
RevocationStatus check_crl(const Certificate& certificate, const Certificate& issuer,
                           const RevocationOptions& options);
RevocationStatus check_ocsp(const Certificate& certificate, const Certificate& issuer,
                            const RevocationOptions& options);

// Judges CRL bytes (DER or PEM) already in hand, e.g. from a file or the cache.
RevocationStatus evaluate_crl(const std::string& crl_bytes, const Certificate& certificate,
                              const Certificate& issuer, const RevocationOptions& options,
                              const std::string& url = "");

// Verifies an OCSP response stapled in a handshake (DER bytes from
// SSL_get_tlsext_status_ocsp_resp) for `certificate` issued by `issuer`.
RevocationStatus verify_stapled_ocsp(const std::vector<std::uint8_t>& response_der,
                                     const Certificate& certificate, const Certificate& issuer,
                                     const RevocationOptions& options = {});

// An OCSP response fetched for stapling: the bytes as the responder sent
// them (empty when nothing usable came back) and what they say.
struct FetchedOcspResponse {
  std::vector<std::uint8_t> der;
  RevocationStatus status;
  bool no_response = false;  // no HTTP response at all (refused, timed out, no name)
};
FetchedOcspResponse fetch_ocsp_response(const Certificate& certificate, const Certificate& issuer,
                                        const std::string& url, const RevocationOptions& options);

inline constexpr std::size_t kMaxOcspResponseBytes = 1024 * 1024;
// A DER OCSP response from a file (`openssl ocsp -respout`), checked to parse.
Result<std::vector<std::uint8_t>> load_ocsp_response(const std::filesystem::path& path);

// RFC 5280 5.3.1 CRLReason names ("keyCompromise", ...) and codes.
std::optional<int> crl_reason_code(std::string_view name);
std::string crl_reason_name(int code);
std::vector<std::string> crl_reason_names();

}  // namespace tls
