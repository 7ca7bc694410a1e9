#pragma once
// Pieces shared by the CRL and OCSP checks and the lab CRL/OCSP issuers.
// Only tls/*.cpp includes this.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tls/detail/openssl.hpp"
#include "tls/revocation.hpp"

namespace tls::revocation_internal {

using SteadyClock = std::chrono::steady_clock;

// system_clock counts nanoseconds in 64 bits and so ends in 2262, while
// CRL and OCSP dates run to 9999: a nextUpdate of 9999-12-31 wrapped to 1816
// ("passed 76947d ago") and UBSan aborted. Clamped as tls/certificate.cpp
// clamps validity: past the end is time_point::max(), before 1970 is 1970
// (no revocation data predates it), so `now - this_update` cannot overflow.
inline Clock::time_point to_time_point(const ASN1_TIME* time) {
  struct tm parts {};
  if (!time || ASN1_TIME_to_tm(time, &parts) != 1) return {};
  constexpr auto last =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count();
  const time_t seconds = timegm(&parts);
  if (seconds >= last) return Clock::time_point::max();
  if (seconds <= 0) return Clock::time_point{};
  return Clock::from_time_t(seconds);
}

// A clamped date past 2262 is shown as RFC 5280's "no well-defined expiry"
// value (4.1.2.5), which is what such dates are in practice.
inline std::string format_time(Clock::time_point time) {
  if (time == Clock::time_point::max()) return "9999-12-31 23:59:59 UTC (or later than 2262)";
  std::time_t seconds = Clock::to_time_t(time);
  struct tm parts {};
  gmtime_r(&seconds, &parts);
  char text[32] = {};
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
  return text;
}

// "3h 20m", "2d 4h", "45s": how long ago or how far away, for messages.
inline std::string format_duration(std::chrono::seconds span) {
  long long s = span.count() < 0 ? -span.count() : span.count();
  if (s >= 86400) return std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
  if (s >= 3600) return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
  if (s >= 60) return std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
  return std::to_string(s) + "s";
}

inline std::string serial_hex(const ASN1_INTEGER* serial) {
  BignumPtr number(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!number) return "?";
  std::unique_ptr<char, OpensslFree> text(BN_bn2hex(number.get()));
  return text ? text.get() : "?";
}

// Hex (any case, leading zeros allowed) -> ASN1_INTEGER, or null when not hex.
inline Asn1IntegerPtr serial_from_hex(const std::string& hex) {
  BIGNUM* raw = nullptr;
  if (hex.empty() || BN_hex2bn(&raw, hex.c_str()) != static_cast<int>(hex.size())) {
    BN_free(raw);
    return nullptr;
  }
  BignumPtr number(raw);
  return Asn1IntegerPtr(BN_to_ASN1_INTEGER(number.get(), nullptr));
}

inline std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return bio_to_string(bio.get());
}

inline std::chrono::milliseconds since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
}

// A short, printable look at bytes that were supposed to be a CRL or an
// OCSP response, so "it was an HTML error page" is obvious from the message.
inline std::string describe_unexpected(const std::string& bytes, const std::string& content_type) {
  std::string preview;
  for (char c : bytes.substr(0, 40)) preview += (c >= 0x20 && c < 0x7f) ? c : '.';
  std::string text = std::to_string(bytes.size()) + " bytes";
  if (!content_type.empty()) text += ", Content-Type " + content_type;
  if (!bytes.empty()) text += ", starting \"" + preview + "\"";
  return text;
}

// `status` as a failed answer of `kind`, typed by `problem`, explained by `error`.
inline RevocationStatus failed(RevocationStatus status, RevocationStatus::Kind kind,
                               RevocationProblem problem, std::string error) {
  status.kind = kind;
  status.problem = problem;
  status.error = std::move(error);
  return status;
}

// No answer from `url` of `source`, for `problem`.
inline RevocationStatus unavailable(RevocationSource source, const std::string& url,
                                    RevocationProblem problem, std::string error) {
  RevocationStatus status;
  status.source = source;
  status.url = url;
  return failed(std::move(status), RevocationStatus::unavailable, problem, std::move(error));
}

// A parsed CRL as the cache shares it between checks and threads. OpenSSL
// takes the CRL's own lock to sort its entries on the first lookup, so
// concurrent lookups are safe.
struct CachedCrl {
  X509CrlPtr crl;
  std::string url;
  std::mutex mutex;
  std::set<std::string> verified_by;  // sha256 of the issuers whose key verified it
};

// What one CRL URL gave: the CRL, or the failed attempt's status.
struct CrlAnswer {
  std::shared_ptr<CachedCrl> crl;
  RevocationStatus failure;  // when crl is null
  bool no_response = false;  // no HTTP response at all
};

// Values by key, each kept until its time, at most `max` of them; one fetch
// per key at a time, the other callers waiting for its value.
template <class Value>
class Remembered {
 public:
  struct Fetched {
    Value value;
    std::optional<Clock::time_point> until;  // nullopt: not kept
  };

  explicit Remembered(std::size_t max) : max_(std::max<std::size_t>(1, max)) {}

  std::optional<Value> kept(const std::string& key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    return kept_locked(key, now);
  }

  // The kept value, or fetch()'s. While another caller fetches the same key
  // this one waits for that value until `deadline` (nullopt when it passes).
  std::optional<Value> get(const std::string& key, Clock::time_point now,
                           std::chrono::steady_clock::time_point deadline,
                           const std::function<Fetched()>& fetch, bool* fetched = nullptr) {
    std::unique_lock lock(mutex_);
    if (auto value = kept_locked(key, now)) return value;
    if (auto flight = flights_.find(key); flight != flights_.end()) {
      auto waiting = flight->second;
      if (!done_.wait_until(lock, deadline, [&] { return waiting->done; })) return std::nullopt;
      if (waiting->value) return waiting->value;
      // The fetch threw: this caller tries itself.
    }
    auto flight = std::make_shared<Flight>();
    flights_[key] = flight;
    lock.unlock();
    std::optional<Fetched> result;
    try {
      result = fetch();
    } catch (...) {
      lock.lock();
      flights_.erase(key);
      flight->done = true;
      done_.notify_all();
      throw;
    }
    if (fetched) *fetched = true;
    lock.lock();
    ++fetches_;
    flights_.erase(key);
    flight->value = result->value;
    flight->done = true;
    if (result->until && *result->until > now) keep_locked(key, result->value, *result->until, now);
    done_.notify_all();
    return std::move(result->value);
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return kept_.size();
  }
  std::size_t fetches() const {
    std::lock_guard lock(mutex_);
    return fetches_;
  }
  std::size_t hits() const {
    std::lock_guard lock(mutex_);
    return hits_;
  }

 private:
  struct Flight {
    bool done = false;
    std::optional<Value> value;
  };
  struct Entry {
    Value value;
    Clock::time_point until;
  };

  std::optional<Value> kept_locked(const std::string& key, Clock::time_point now) {
    auto found = kept_.find(key);
    if (found == kept_.end()) return std::nullopt;
    if (found->second.until <= now) {
      kept_.erase(found);
      return std::nullopt;
    }
    ++hits_;
    return found->second.value;
  }

  void keep_locked(const std::string& key, Value value, Clock::time_point until,
                   Clock::time_point now) {
    if (kept_.size() >= max_ && !kept_.contains(key)) {
      std::erase_if(kept_, [&](const auto& entry) { return entry.second.until <= now; });
      while (kept_.size() >= max_) {
        auto first = std::min_element(kept_.begin(), kept_.end(), [](const auto& a, const auto& b) {
          return a.second.until < b.second.until;
        });
        kept_.erase(first);
      }
    }
    kept_.insert_or_assign(key, Entry{std::move(value), until});
  }

  const std::size_t max_;
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::map<std::string, Entry> kept_;
  std::map<std::string, std::shared_ptr<Flight>> flights_;
  std::size_t fetches_ = 0;
  std::size_t hits_ = 0;
};

// URLs that gave no usable answer, whatever certificate was asked about (a
// server that does not answer, a CRL URL that serves no CRL), each kept for
// keep_failure. When that time passes the failure is not dropped at once:
// one caller in the whole cache at a time asks that server again while
// every other caller is given the last failure. So a dead server holds one
// thread for its timeout per keep_failure and per URL, never every caller
// (serve's judgements behind one fetch, its queue full).
class FailedUrls {
 public:
  explicit FailedUrls(std::size_t max) : max_(std::max<std::size_t>(1, max)) {}

  // The failure to give without asking `url` (of `source`, fetched through
  // `server`, see server_of): its own, kept or lapsed while another caller
  // asks again; or, for a URL with none, that of another URL of the same
  // server that gave no response at all within keep_failure (a dead server
  // costs one timeout, not one per URL).
  std::optional<RevocationStatus> known(const std::string& url, const std::string& server,
                                        RevocationSource source, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto found = failures_.find(url);
    if (found == failures_.end()) return silent_server(url, server, source, now);
    if (found->second.until > now || found->second.asking || asking_ > 0)
      return remembered(found->second);
    return std::nullopt;
  }

  // As known(), except that when the failure has lapsed and nobody is asking
  // again, this caller is to ask (`asking` set): it must then report what it
  // got through failed() or answered().
  std::optional<RevocationStatus> known_or_ask(const std::string& url, const std::string& server,
                                               RevocationSource source, Clock::time_point now,
                                               bool& asking) {
    std::lock_guard lock(mutex_);
    asking = false;
    auto found = failures_.find(url);
    if (found == failures_.end()) return silent_server(url, server, source, now);
    if (found->second.until > now || found->second.asking || asking_ > 0)
      return remembered(found->second);
    found->second.asking = true;
    ++asking_;
    asking = true;
    return std::nullopt;
  }

  // `url` gave no usable answer at `at`: kept until `until`. `silent_server`
  // (not empty): no response came at all from that server.
  void failed(const std::string& url, RevocationStatus status, Clock::time_point at,
              Clock::time_point until, const std::string& silent_server = "") {
    std::lock_guard lock(mutex_);
    if (!silent_server.empty()) {
      if (servers_.size() >= max_ && !servers_.contains(silent_server)) servers_.clear();
      servers_.insert_or_assign(silent_server, Failure{status, at, until, false});
    }
    if (auto found = failures_.find(url); found != failures_.end()) {
      stop_asking(found->second);
    } else if (failures_.size() >= max_) {
      auto first = std::min_element(failures_.begin(), failures_.end(), [](auto& a, auto& b) {
        return a.second.until < b.second.until;
      });
      stop_asking(first->second);
      failures_.erase(first);
    }
    failures_.insert_or_assign(url, Failure{std::move(status), at, until, false});
  }

  // A response came from `server`: it is not silent.
  void reached(const std::string& server) {
    std::lock_guard lock(mutex_);
    servers_.erase(server);
  }

  // The caller that asked again got an answer (`forget`: the failure is
  // over) or gave up without one (cancelled, out of time: the lapsed failure
  // stays for the next caller to ask again).
  void answered(const std::string& url, bool forget) {
    std::lock_guard lock(mutex_);
    auto found = failures_.find(url);
    if (found == failures_.end()) return;
    stop_asking(found->second);
    if (forget) failures_.erase(found);
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return failures_.size();
  }

 private:
  struct Failure {
    RevocationStatus status;
    Clock::time_point at;
    Clock::time_point until;
    bool asking = false;  // a caller is asking this URL again
  };

  // Said, so a report does not look as if this check had waited for it.
  static RevocationStatus remembered(const Failure& failure) {
    RevocationStatus status = failure.status;
    status.error += " (remembered: no answer at " + format_time(failure.at) +
                    ", asked again from " + format_time(failure.until) + ")";
    status.elapsed = std::chrono::milliseconds(0);
    return status;
  }

  void stop_asking(Failure& failure) {
    if (!failure.asking) return;
    failure.asking = false;
    --asking_;
  }

  std::optional<RevocationStatus> silent_server(const std::string& url, const std::string& server,
                                                RevocationSource source, Clock::time_point now) {
    auto found = servers_.find(server);
    if (server.empty() || found == servers_.end() || found->second.until <= now)
      return std::nullopt;
    const RevocationStatus& silent = found->second.status;
    RevocationStatus status;
    status.kind = RevocationStatus::unavailable;
    status.problem = RevocationProblem::fetch_failed;
    status.source = source;
    status.url = url;
    status.error = url + ": not asked: " + silent.url + " on the same server gave no response at " +
                   format_time(found->second.at) + " (" + silent.error + "); asked again from " +
                   format_time(found->second.until);
    return status;
  }

  const std::size_t max_;
  mutable std::mutex mutex_;
  std::map<std::string, Failure> failures_;
  std::map<std::string, Failure> servers_;  // by server_of: no response at all
  std::size_t asking_ = 0;                  // failures being asked again, in the whole cache
};

// The fetches under way, by server (server_of), each since when.
class ServersAsked {
 public:
  using Asking = std::multimap<std::string, SteadyClock::time_point>;

  // Held for one fetch.
  class Ticket {
   public:
    Ticket(ServersAsked& owner, Asking::iterator at) : owner_(owner), at_(at) {}
    ~Ticket() {
      std::lock_guard lock(owner_.mutex_);
      owner_.asking_.erase(at_);
    }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    ServersAsked& owner_;
    Asking::iterator at_;
  };

  Ticket asking(const std::string& server) {
    std::lock_guard lock(mutex_);
    return Ticket(*this, asking_.emplace(server, SteadyClock::now()));
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return asking_.size();
  }

  // Since when the oldest fetch from `server` under way has waited.
  std::optional<SteadyClock::time_point> waiting_since(const std::string& server) const {
    std::lock_guard lock(mutex_);
    std::optional<SteadyClock::time_point> oldest;
    auto [first, last] = asking_.equal_range(server);
    for (auto it = first; it != last; ++it)
      if (!oldest || it->second < *oldest) oldest = it->second;
    return oldest;
  }

 private:
  mutable std::mutex mutex_;
  Asking asking_;
};

}  // namespace tls::revocation_internal

namespace tls {

class RevocationCache::Impl {
 public:
  explicit Impl(Limits limits_in)
      : limits(std::move(limits_in)),
        crls(limits.max_crls),
        answers(limits.max_answers),
        failed_urls(limits.max_answers) {}

  Clock::time_point now() const { return limits.clock ? limits.clock() : Clock::now(); }
  // Until when an answer dated `next_update` is kept; a failure for keep_failure.
  Clock::time_point keep_until(const std::optional<Clock::time_point>& next_update) const {
    return next_update ? *next_update : now() + limits.keep_undated;
  }
  Clock::time_point keep_failure_until() const { return now() + limits.keep_failure; }

  Limits limits;
  revocation_internal::Remembered<revocation_internal::CrlAnswer> crls;  // by URL
  // By issuer sha256, serial and responder URL.
  revocation_internal::Remembered<RevocationStatus> answers;
  // CRL and OCSP URLs that gave no usable answer, by URL.
  revocation_internal::FailedUrls failed_urls;
  revocation_internal::ServersAsked servers_asked;
};

}  // namespace tls

namespace tls::revocation_internal {

// The caller FailedUrls::known_or_ask let through to ask a URL again says
// how it went when it is done, however the fetch ends (a throw included),
// so the URL is never left marked as being asked.
struct AskingAgain {
  RevocationCache::Impl& cache;
  const std::string& url;
  bool asking;
  bool forget = false;  // answered: drop the remembered failure
  ~AskingAgain() {
    if (asking) cache.failed_urls.answered(url, forget);
  }
};

// Until when a check waits for another check's fetch of the same answer.
inline SteadyClock::time_point wait_for_others_until(const RevocationOptions& options,
                                                     std::chrono::milliseconds budget) {
  return SteadyClock::now() +
         (options.wait_for_others ? std::min(budget, *options.wait_for_others) : budget);
}

// Why `url` is not asked now: options.wait_for_others is set and another
// check has waited longer than that for `server`. nullopt: ask it.
std::optional<RevocationStatus> server_busy(RevocationCache::Impl& cache,
                                            const RevocationOptions& options,
                                            RevocationSource source, const std::string& url,
                                            const std::string& server);

// What a check says that gave up waiting for another check's fetch of `what`
// (e.g. "this CRL"), with `budget` left of its own.
RevocationStatus gave_up_waiting(const RevocationOptions& options, RevocationSource source,
                                 const std::string& url, const std::string& what,
                                 std::chrono::milliseconds budget);

// Fetches and judges one URL within `budget`.
using AskUrl =
    std::function<RevocationStatus(const std::string& url, std::chrono::milliseconds budget)>;
// An answer for `url` that costs no time (a cache), or nothing.
using CachedAnswer = std::function<std::optional<RevocationStatus>(const std::string& url)>;

// The attempt loop the CRL and OCSP checks share: each of a source's URLs in
// order until one answers good or revoked, every attempt recorded, the
// fetches within what is left of `deadline` (later URLs are recorded as
// skipped once it is spent). `no_url_error` explains an empty `urls`.
RevocationStatus ask_each_url(RevocationSource source, const std::vector<std::string>& urls,
                              const std::string& no_url_error, const RevocationOptions& options,
                              SteadyClock::time_point deadline, const AskUrl& ask,
                              const CachedAnswer& cached = nullptr);

// Judges a parsed CRL (`held`, perhaps shared through the cache) for
// `certificate` issued by `issuer`; its signature is verified once per issuer.
RevocationStatus judge_crl(CachedCrl& held, const Certificate& certificate,
                           const Certificate& issuer, const RevocationOptions& options);

// True when the caller told the fetch to stop (serve stopping): such a
// failure says nothing about the server and is not remembered.
inline bool fetch_cancelled(const RevocationOptions& options) {
  return options.http.cancelled && options.http.cancelled->load();
}

// Judges one already-parsed OCSP response (OCSP/stapled share it).
// `request` is null for stapled responses (no nonce to compare).
RevocationStatus evaluate_ocsp_response(const std::string& response_der, OCSP_REQUEST* request,
                                        const Certificate& certificate, const Certificate& issuer,
                                        const RevocationOptions& options, RevocationSource source,
                                        const std::string& url, const std::string& content_type);

// Sets status.age / stale from its dates.
void stamp_age(RevocationStatus& status);

// One answer from several tries (each carrying its attempts): the first
// good/revoked wins, else unknown, else unavailable; errors and attempts kept.
RevocationStatus decide(std::vector<RevocationStatus> answers);

// One OCSP request for `certificate` to `url` (known to be fetchable), the
// answer judged and its bytes kept.
FetchedOcspResponse query_ocsp(const Certificate& certificate, const Certificate& issuer,
                               const std::string& url, const RevocationOptions& options,
                               std::chrono::milliseconds budget);

// The checks with a deadline shared across sources (for mode both).
RevocationStatus check_crl_until(const Certificate& certificate, const Certificate& issuer,
                                 const RevocationOptions& options,
                                 SteadyClock::time_point deadline);
RevocationStatus check_ocsp_until(const Certificate& certificate, const Certificate& issuer,
                                  const RevocationOptions& options,
                                  SteadyClock::time_point deadline);

}  // namespace tls::revocation_internal
