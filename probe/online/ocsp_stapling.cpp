#include "probe/online/ocsp_stapling.hpp"

#include "probe/diagnosis/facts.hpp"

#include <algorithm>

namespace probe {
namespace {

constexpr std::chrono::seconds kRetryAfterFailure{60};
constexpr std::chrono::seconds kLongestRefresh{3600};

std::string describe(const tls::RevocationStatus& status) {
  std::string text = revocation_text(status);
  if (status.next_update) text += ", next update " + rfc3339(*status.next_update);
  return text;
}

}  // namespace

void add_staple_flags(CLI::App* command, StapleFlags& flags) {
  const std::string group = "OCSP stapling";
  auto* file =
      command
          ->add_option("--ocsp-response", flags.response_file,
                       "Staple this DER OCSP response for our certificate (made with `openssl "
                       "ocsp ... -respout FILE`); stapled as given, even when it does not verify")
          ->check(CLI::ExistingFile)
          ->group(group);
  command
      ->add_option("--ocsp-responder", flags.responder,
                   "Staple answers from this OCSP responder URL, or `aia` for the one in our "
                   "certificate; asked at start and again before the answer goes stale")
      ->excludes(file)
      ->group(group);
}

std::chrono::seconds refresh_interval(const tls::RevocationStatus& status) {
  if (!status.decisive()) return kRetryAfterFailure;
  if (!status.next_update) return kLongestRefresh;
  auto left =
      std::chrono::duration_cast<std::chrono::seconds>(*status.next_update - tls::Clock::now());
  return std::clamp(left / 2, kRetryAfterFailure, kLongestRefresh);
}

mtls::Result<std::string> staple_responder_url(const StapleFlags& flags,
                                               const tls::Certificate& leaf) {
  if (flags.responder != "aia") return flags.responder;
  const auto& urls = leaf.info().ocsp_urls;
  if (urls.empty())
    return mtls::Error{"--ocsp-responder aia: our certificate " + leaf.subject() +
                       " names no OCSP responder; give the URL instead"};
  return urls.front();
}

mtls::Result<tls::FetchedOcspResponse> first_staple(const StapleFlags& flags,
                                                    const std::vector<tls::Certificate>& chain,
                                                    const tls::RevocationOptions& options,
                                                    const StapleLog& log) {
  if (chain.empty()) return mtls::Error{"OCSP stapling needs our certificate"};
  const tls::Certificate& leaf = chain.front();
  const tls::Certificate* issuer = chain.size() > 1 ? &chain[1] : nullptr;
  if (!flags.response_file.empty()) {
    auto loaded = tls::load_ocsp_response(flags.response_file);
    if (!loaded) return loaded.error();
    tls::FetchedOcspResponse staple;
    staple.der = std::move(*loaded);
    if (issuer) {
      staple.status = tls::verify_stapled_ocsp(staple.der, leaf, *issuer, options);
      log("stapling " + flags.response_file + ": " + describe(staple.status) +
          (staple.status.kind == tls::RevocationStatus::good ? "" : " (stapled as given)"));
    } else {
      log("stapling " + flags.response_file +
          " unverified: our certificate's issuer is not in our stores");
    }
    return staple;
  }
  if (!issuer)
    return mtls::Error{
        "--ocsp-responder: our certificate's issuer is not in our stores, so no "
        "OCSP request can be made for it"};
  auto url = staple_responder_url(flags, leaf);
  if (!url) return url.error();
  if (auto reason = tls::why_not_fetchable(*url))
    return mtls::Error{"--ocsp-responder: " + *reason};
  log("asking " + *url + " for an OCSP response to staple...");
  auto fetched = tls::fetch_ocsp_response(leaf, *issuer, *url, options);
  if (fetched.der.empty())
    log("no OCSP response to staple yet: " + fetched.status.error + "; serving without one");
  else
    log("stapling the answer from " + *url + ": " + describe(fetched.status));
  return fetched;
}

StapleRefresher::StapleRefresher(std::string url, std::vector<tls::Certificate> chain,
                                 tls::RevocationOptions options, std::chrono::seconds first_wait,
                                 std::function<void(std::vector<std::uint8_t>)> update,
                                 StapleLog log)
    : url_(std::move(url)),
      chain_(std::move(chain)),
      options_(std::move(options)),
      update_(std::move(update)),
      log_(std::move(log)) {
  thread_ = std::thread([this, first_wait] { run(first_wait); });
}

StapleRefresher::~StapleRefresher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void StapleRefresher::run(std::chrono::seconds wait) {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, wait, [this] { return stopping_; })) return;
    }
    auto fetched = tls::fetch_ocsp_response(chain_[0], chain_[1], url_, options_);
    if (fetched.der.empty()) {
      log_("refreshing the OCSP staple from " + url_ + " failed: " + fetched.status.error +
           "; keeping the previous one");
    } else {
      log_("refreshed the OCSP staple from " + url_ + ": " + describe(fetched.status));
      update_(std::move(fetched.der));
    }
    wait = refresh_interval(fetched.status);
  }
}

}  // namespace probe
