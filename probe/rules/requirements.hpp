#pragma once
// The vendor's MTLS certificate requirements as rules: store facts in,
// findings out. No I/O here: stores are loaded by the caller.
#include <optional>
#include <string>
#include <vector>

#include "probe/rules/fqdn.hpp"
#include "report/model.hpp"
#include "tls/certificate.hpp"
#include "tls/store.hpp"

namespace probe {

// The requirement headings findings are grouped under, in the seed's order.
namespace requirement {
inline constexpr const char* kPersonal =
    "BEMS certificate and private key in the Personal store, readable by the service account";
inline constexpr const char* kTrustedRoot =
    "Both certificates chain to roots in BEMS's Trusted Root Certification Authorities store";
inline constexpr const char* kIntermediate =
    "Intermediates of both certificates in BEMS's Intermediate Certification Authorities store";
inline constexpr const char* kSubjectName =
    "Subject CN is a valid FQDN: the trusted application pool name";
inline constexpr const char* kSubjectAltName =
    "SAN lists the pool FQDN and the FQDN of every BEMS instance";
inline constexpr const char* kMutualTrust =
    "Both certificates are signed by CAs that both sides trust";
inline constexpr const char* kValidity = "Certificates are valid, not expired and not revoked";
}  // namespace requirement

struct OfflineInputs {
  const tls::Store* bems = nullptr;  // our side; required
  const tls::Store* lync = nullptr;  // the Lync/Skype pool's store; optional
  std::optional<std::string> pool;   // trusted application pool FQDN (default: the BEMS CN)
  std::vector<std::string> instances;
  int warn_days = 30;
  tls::Clock::time_point now = tls::Clock::now();
};

std::vector<report::Finding> evaluate_offline(const OfflineInputs& inputs);

// Pieces shared with the live diagnosis.
report::CertificateRef certificate_ref(const tls::CertificateInfo& info);

// One side's chain facts, as the rules see them.
enum class Side { bems, lync };
std::string side_name(Side side);  // "BEMS" / "Lync/Skype pool"
std::string side_id(Side side);    // "bems" / "lync"

// The chain of one side (leaf first) as far as every store given can build it.
std::vector<tls::Certificate> side_chain(const OfflineInputs& inputs, Side side);

}  // namespace probe
