// Choosing and combining revocation sources: OCSP first in mode both (one
// small signed answer), then the CRLs, within one time budget.
#include "tls/revocation.hpp"

#include <array>

#include "tls/detail/revocation_internal.hpp"

namespace tls {

using namespace revocation_internal;

namespace {

// RFC 5280 5.3.1; 7 is not used.
constexpr std::array<const char*, 11> kReasonNames = {
    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
    "superseded",    "cessationOfOperation", "certificateHold", "",
    "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};

}  // namespace

std::optional<int> crl_reason_code(std::string_view name) {
  for (std::size_t code = 0; code < kReasonNames.size(); ++code)
    if (*kReasonNames[code] && name == kReasonNames[code]) return static_cast<int>(code);
  return std::nullopt;
}

std::string crl_reason_name(int code) {
  if (code >= 0 && code < static_cast<int>(kReasonNames.size()) && *kReasonNames[code])
    return kReasonNames[code];
  return "reason " + std::to_string(code);
}

std::vector<std::string> crl_reason_names() {
  std::vector<std::string> names;
  for (const char* name : kReasonNames)
    if (*name) names.emplace_back(name);
  return names;
}

Result<RevocationMode> parse_revocation_mode(std::string_view text) {
  if (text == "crl") return RevocationMode::crl;
  if (text == "ocsp") return RevocationMode::ocsp;
  if (text == "both") return RevocationMode::both;
  if (text == "off") return RevocationMode::off;
  return Error{"revocation mode '" + std::string(text) + "' is not one of crl, ocsp, both, off"};
}

std::string to_string(RevocationMode mode) {
  switch (mode) {
    case RevocationMode::crl:
      return "crl";
    case RevocationMode::ocsp:
      return "ocsp";
    case RevocationMode::both:
      return "both";
    case RevocationMode::off:
      return "off";
  }
  return "?";
}

std::string to_string(RevocationSource source) {
  switch (source) {
    case RevocationSource::none:
      return "";
    case RevocationSource::crl:
      return "CRL";
    case RevocationSource::ocsp:
      return "OCSP";
    case RevocationSource::stapled_ocsp:
      return "stapled OCSP";
  }
  return "?";
}

std::string to_string(RevocationStatus::Kind kind) {
  switch (kind) {
    case RevocationStatus::good:
      return "good";
    case RevocationStatus::revoked:
      return "revoked";
    case RevocationStatus::unknown:
      return "unknown";
    case RevocationStatus::unavailable:
      return "unavailable";
    case RevocationStatus::not_published:
      return "not published";
  }
  return "?";
}

namespace revocation_internal {

RevocationStatus decide(std::vector<RevocationStatus> answers) {
  std::vector<RevocationAttempt> attempts;
  std::string errors;
  for (auto& answer : answers) {
    attempts.insert(attempts.end(), answer.attempts.begin(), answer.attempts.end());
    if (!answer.error.empty()) errors += (errors.empty() ? "" : "; ") + answer.error;
  }
  // Priority: a decisive answer, then "unknown", then a stale CRL (it has
  // dates worth showing), then the first failure.
  const RevocationStatus* chosen = nullptr;
  for (const auto& answer : answers)
    if (!chosen && answer.decisive()) chosen = &answer;
  for (const auto& answer : answers)
    if (!chosen && answer.kind == RevocationStatus::unknown) chosen = &answer;
  for (const auto& answer : answers)
    if (!chosen && answer.stale) chosen = &answer;
  if (!chosen && !answers.empty()) chosen = &answers.front();
  RevocationStatus result = chosen ? *chosen : RevocationStatus{};
  result.attempts = std::move(attempts);
  if (!result.decisive()) result.error = errors;
  return result;
}

RevocationStatus ask_each_url(RevocationSource source, const std::vector<std::string>& urls,
                              const std::string& no_url_error, const RevocationOptions& options,
                              SteadyClock::time_point deadline, const AskUrl& ask,
                              const CachedAnswer& cached) {
  const auto started = SteadyClock::now();
  if (urls.empty()) {
    RevocationStatus overall;
    overall.source = source;
    overall.error = no_url_error;
    return overall;
  }
  std::vector<RevocationStatus> answers;
  for (const auto& url : urls) {
    const auto attempt_started = SteadyClock::now();
    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - attempt_started);
    std::optional<RevocationStatus> from_cache;
    RevocationStatus answer;
    if (auto reason = why_not_fetchable(url)) {
      answer = unavailable(source, url, RevocationProblem::not_fetchable, *reason);
    } else if (cached && (from_cache = cached(url))) {
      answer = std::move(*from_cache);
    } else if (remaining <= std::chrono::milliseconds(0)) {
      answer = unavailable(source, url, RevocationProblem::budget_spent,
                           url + ": skipped, the revocation time budget of " +
                               std::to_string(options.total_timeout.count()) + " ms was used up");
    } else if (options.cached_only) {
      answer = unavailable(source, url, RevocationProblem::budget_spent,
                           url + ": not asked, no time to wait for it here and no answer kept");
    } else {
      answer = ask(url, remaining);
    }
    RevocationAttempt attempt;
    attempt.source = source;
    attempt.url = url;
    attempt.outcome = answer.kind;
    attempt.problem = answer.problem;
    attempt.error = answer.error;
    attempt.elapsed = since(attempt_started);
    attempt.from_cache = from_cache.has_value();
    answer.attempts.push_back(attempt);
    const bool done = answer.decisive();
    answers.push_back(std::move(answer));
    if (done) break;
  }
  RevocationStatus decided = decide(std::move(answers));
  decided.elapsed = since(started);
  return decided;
}

std::optional<RevocationStatus> server_busy(RevocationCache::Impl& cache,
                                            const RevocationOptions& options,
                                            RevocationSource source, const std::string& url,
                                            const std::string& server) {
  if (!options.wait_for_others || server.empty()) return std::nullopt;
  const auto since = cache.servers_asked.waiting_since(server);
  if (!since) return std::nullopt;
  const auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - *since);
  if (waited < *options.wait_for_others) return std::nullopt;
  return unavailable(source, url, RevocationProblem::budget_spent,
                     url + ": not asked: another check has waited " +
                         std::to_string(waited.count()) +
                         " ms so far for an answer from the same server; this check waits at "
                         "most " +
                         std::to_string(options.wait_for_others->count()) +
                         " ms for others (their answer is kept for later checks)");
}

RevocationStatus gave_up_waiting(const RevocationOptions& options, RevocationSource source,
                                 const std::string& url, const std::string& what,
                                 std::chrono::milliseconds budget) {
  if (options.wait_for_others && *options.wait_for_others < budget)
    return unavailable(source, url, RevocationProblem::budget_spent,
                       url + ": another check is fetching " + what + "; this check waits at most " +
                           std::to_string(options.wait_for_others->count()) +
                           " ms for others (their answer is kept for later checks)");
  return unavailable(source, url, RevocationProblem::budget_spent,
                     url + ": another check was fetching " + what +
                         " and it did not arrive within the " + std::to_string(budget.count()) +
                         " ms left");
}

}  // namespace revocation_internal

RevocationStatus check_crl(const Certificate& certificate, const Certificate& issuer,
                           const RevocationOptions& options) {
  return check_crl_until(certificate, issuer, options, SteadyClock::now() + options.total_timeout);
}

RevocationStatus check_ocsp(const Certificate& certificate, const Certificate& issuer,
                            const RevocationOptions& options) {
  return check_ocsp_until(certificate, issuer, options, SteadyClock::now() + options.total_timeout);
}

RevocationStatus check_revocation(const Certificate& certificate, const Certificate& issuer,
                                  const RevocationOptions& options) {
  const auto started = SteadyClock::now();
  const auto deadline = started + options.total_timeout;
  if (options.mode == RevocationMode::off) {
    RevocationStatus off;
    off.error = "revocation checking is off";
    return off;
  }
  if (options.mode == RevocationMode::crl)
    return check_crl_until(certificate, issuer, options, deadline);
  if (options.mode == RevocationMode::ocsp)
    return check_ocsp_until(certificate, issuer, options, deadline);

  std::vector<RevocationStatus> answers;
  auto ocsp = check_ocsp_until(certificate, issuer, options, deadline);
  if (ocsp.decisive()) return ocsp;
  if (ocsp.kind != RevocationStatus::not_published) answers.push_back(std::move(ocsp));
  auto crl = check_crl_until(certificate, issuer, options, deadline);
  if (crl.kind != RevocationStatus::not_published) answers.push_back(std::move(crl));
  if (answers.empty()) {
    RevocationStatus nothing;
    nothing.error = "the certificate names neither an OCSP responder nor a CRL distribution point";
    return nothing;
  }
  RevocationStatus decided = decide(std::move(answers));
  decided.elapsed = since(started);
  return decided;
}

}  // namespace tls
