#pragma once
// The trust anchors tls::verify_chain checks against, with OpenSSL's store of
// them built once and shared. OpenSSL 3.0 sorts its store on every add, so a
// Windows-sized trusted-root store (400 roots) costs milliseconds to build:
// built for each verification it was two thirds of a handshake's CPU
// (issue 17). Immutable once made: copies share the one store, and any number
// of threads may verify against it at once (what one verification changes,
// its time, flags and CRLs, lives in its X509_STORE_CTX).
#include <memory>
#include <vector>

#include "tls/certificate.hpp"

typedef struct x509_store_st X509_STORE;

namespace tls {

class TrustAnchors {
 public:
  TrustAnchors();  // none
  // Every certificate given is an anchor, self-signed or not, as in a Windows
  // root store and RFC 5280's trust-anchor model. `system_roots`: the
  // system's default roots too.
  explicit TrustAnchors(std::vector<Certificate> roots, bool system_roots = false);

  // The anchors of an earlier call with the same certificate objects (in the
  // same order) and flag, so callers that hold plain lists share one store;
  // built on the first call. The last few sets are kept.
  static TrustAnchors shared(const std::vector<Certificate>& roots, bool system_roots = false);

  const std::vector<Certificate>& certificates() const;
  bool system_roots() const;

  // For code inside tls/ only: the store, owned by these anchors.
  X509_STORE* native() const;
  // The anchor whose handle is `x509`, so that its facts are not read again
  // when OpenSSL hands it back; null when it is none of ours.
  const Certificate* find(const X509* x509) const;

 private:
  struct State;
  std::shared_ptr<const State> state_;
};

}  // namespace tls
