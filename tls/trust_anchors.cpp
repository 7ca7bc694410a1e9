#include "tls/trust_anchors.hpp"

#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "tls/detail/openssl.hpp"

namespace tls {

struct TrustAnchors::State {
  std::vector<Certificate> roots;
  bool system_roots = false;
  X509StorePtr store;
  std::unordered_map<const X509*, std::size_t> index;  // handle -> position in roots
};

TrustAnchors::TrustAnchors() {
  // One empty store for every default-made set (a PeerTrust not yet filled).
  static const TrustAnchors none(std::vector<Certificate>{}, false);
  state_ = none.state_;
}

TrustAnchors::TrustAnchors(std::vector<Certificate> roots, bool system_roots) {
  auto state = std::make_shared<State>();
  state->store.reset(X509_STORE_new());
  if (!state->store) throw std::bad_alloc();
  for (std::size_t i = 0; i < roots.size(); ++i) {
    X509_STORE_add_cert(state->store.get(), roots[i].native());
    state->index.emplace(roots[i].native(), i);
  }
  if (system_roots) X509_STORE_set_default_paths(state->store.get());
  clear_openssl_errors();
  state->roots = std::move(roots);
  state->system_roots = system_roots;
  state_ = std::move(state);
}

TrustAnchors TrustAnchors::shared(const std::vector<Certificate>& listed, bool system_roots) {
  // Keyed by the certificate objects as listed: the kept anchors hold them,
  // so an address cannot be reused by another certificate while kept. A hit
  // (every verification of a serve or exporter run) costs one comparison.
  struct Kept {
    std::vector<const X509*> listed;
    bool system_roots = false;
    TrustAnchors anchors;
  };
  std::vector<const X509*> key;
  key.reserve(listed.size());
  for (const Certificate& root : listed) key.push_back(root.native());
  constexpr std::size_t kKept = 8;
  static std::mutex mutex;
  static std::list<Kept> kept;  // most recently used first
  auto find = [&](const std::vector<const X509*>& wanted) -> std::optional<TrustAnchors> {
    for (auto it = kept.begin(); it != kept.end(); ++it) {
      if (it->system_roots != system_roots || it->listed != wanted) continue;
      kept.splice(kept.begin(), kept, it);
      return kept.front().anchors;
    }
    return std::nullopt;
  };
  {
    std::lock_guard lock(mutex);
    if (auto hit = find(key)) return *hit;
  }
  // A certificate object listed twice (a root that is also among the
  // self-signed certificates a caller adds) makes the same store: listed
  // once. The trust-root list and that list with every known root added
  // again then share one store (`check` asks for both): kept under both keys.
  std::vector<Certificate> roots;
  roots.reserve(listed.size());
  std::vector<const X509*> distinct;
  distinct.reserve(listed.size());
  std::unordered_set<const X509*> seen;
  for (const Certificate& root : listed) {
    if (!seen.insert(root.native()).second) continue;
    roots.push_back(root);
    distinct.push_back(root.native());
  }
  if (distinct != key) {
    std::lock_guard lock(mutex);
    if (auto hit = find(distinct)) {
      kept.push_front(Kept{std::move(key), system_roots, *hit});
      if (kept.size() > kKept) kept.pop_back();
      return *hit;
    }
  }
  // Built outside the lock: other threads' look-ups need not wait for it.
  TrustAnchors built(std::move(roots), system_roots);
  std::lock_guard lock(mutex);
  kept.push_front(Kept{std::move(key), system_roots, built});
  if (distinct != kept.front().listed)
    kept.push_front(Kept{std::move(distinct), system_roots, built});
  while (kept.size() > kKept) kept.pop_back();
  return built;
}

const std::vector<Certificate>& TrustAnchors::certificates() const { return state_->roots; }

bool TrustAnchors::system_roots() const { return state_->system_roots; }

X509_STORE* TrustAnchors::native() const { return state_->store.get(); }

const Certificate* TrustAnchors::find(const X509* x509) const {
  auto it = state_->index.find(x509);
  return it == state_->index.end() ? nullptr : &state_->roots[it->second];
}

}  // namespace tls
