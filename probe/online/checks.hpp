#pragma once
// The checks after a live handshake that go to the network: revocation of
// every certificate of a chain (a stapled answer decides the peer's leaf) and
// where a missing intermediate can be downloaded. Bounded by the options.
#include "probe/rules/requirements.hpp"
#include "probe/rules/revocation_findings.hpp"
#include "report/model.hpp"
#include "tls/handshake_record.hpp"
#include "tls/store.hpp"

namespace probe {

// What to do with the CRL, OCSP and caIssuers URLs of a peer chain that our
// verification did not trust. `connect` fetches them: the user chose that
// server. `serve` skips them: a stranger chose them, and fetching would be
// work and traffic done for whoever it rejected (issue 16).
enum class UntrustedChainUrls { fetch, skip };

// The peer's chain from `record` (as our verification built it, else as
// presented), judged against `ours`. Adds `<peer>.revocation` and facts
// under revocation.<peer>, and locates a missing intermediate for
// `<peer>.chain.intermediates`.
void check_peer_chain_online(const tls::HandshakeRecord& record, Side peer, const tls::Store& ours,
                             const RevocationFlags& flags, const tls::RevocationOptions& options,
                             report::Report& result, RevocationMemo* memo = nullptr,
                             UntrustedChainUrls untrusted = UntrustedChainUrls::fetch);

// Our own chain from our store, and what we sent in `record`. `built`: our
// chain as already built to a trusted root (prepare_endpoint judges it once per
// run); built from `ours` again when null.
void check_own_chain_online(const tls::HandshakeRecord& record, Side us, const tls::Store& ours,
                            const RevocationFlags& flags, const tls::RevocationOptions& options,
                            report::Report& result, RevocationMemo* memo = nullptr,
                            const std::vector<tls::Certificate>* built = nullptr);

}  // namespace probe
