// The run's revocation cache (tls/revocation.hpp); the CRL and OCSP checks
// consult it through RevocationCache::Impl (tls/detail/revocation_internal.hpp).
#include "tls/detail/revocation_internal.hpp"
#include "tls/revocation.hpp"

namespace tls {

RevocationCache::RevocationCache() : RevocationCache(Limits()) {}

RevocationCache::RevocationCache(Limits limits)
    : impl_(std::make_unique<Impl>(std::move(limits))) {}

RevocationCache::~RevocationCache() = default;

RevocationCache::Counts RevocationCache::counts() const {
  Counts counts;
  counts.crls = impl_->crls.size();
  counts.answers = impl_->answers.size();
  counts.fetches = impl_->crls.fetches() + impl_->answers.fetches();
  counts.hits = impl_->crls.hits() + impl_->answers.hits();
  counts.fetching = impl_->servers_asked.size();
  return counts;
}

}  // namespace tls
