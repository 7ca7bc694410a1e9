#pragma once
// The lab's revocation state: which lab CA revoked which serial, kept in
// LAB/ca/revoked.json, and each CA's CRL issued from it into LAB/ca/<ca>.crl.
// `pki revoke` writes it; `pki serve` publishes it over HTTP (CRL and OCSP).
#include <filesystem>
#include <string>
#include <vector>

#include "tls/certificate.hpp"
#include "tls/credentials.hpp"
#include "tls/ocsp_responder.hpp"
#include "tls/result.hpp"

namespace probe {

// A lab CA: LAB/ca/<name>.crt with its key LAB/ca/<name>.key.
struct LabAuthority {
  std::string name;
  tls::Certificate certificate;
  tls::PrivateKey key;
};

struct LabRevocation {
  std::string ca;  // LabAuthority::name
  std::string serial_hex;
  std::string subject;  // for people reading the file
  tls::Clock::time_point revoked_at;
  std::string reason;  // CRLReason name
};

struct LabRevocationList {
  std::vector<LabRevocation> entries;
  long crl_number = 0;  // the last cRLNumber issued, shared by the lab's CAs
};

mtls::Result<std::vector<LabAuthority>> load_lab_authorities(const std::filesystem::path& lab);

// An absent file is an empty list.
mtls::Result<LabRevocationList> load_lab_revocations(const std::filesystem::path& lab);
mtls::Status save_lab_revocations(const std::filesystem::path& lab, const LabRevocationList& list);

std::filesystem::path lab_crl_file(const std::filesystem::path& lab, const std::string& ca);

// Issues every CA's CRL from the list (valid 7 days); with `only_missing`
// just those that have no CRL file yet.
mtls::Status issue_lab_crls(const std::filesystem::path& lab, bool only_missing);

// Records the revocation of `certificate` by the lab CA that issued it and
// reissues the CRLs. Refuses certificates no lab CA issued and repeats.
mtls::Result<LabRevocation> revoke_in_lab(const std::filesystem::path& lab,
                                          const tls::Certificate& certificate,
                                          const std::string& reason);

// The OCSP responder's view of the lab, read fresh so revocations made
// while serving count at once.
mtls::Result<std::vector<tls::OcspAuthority>> lab_ocsp_authorities(
    const std::filesystem::path& lab);

}  // namespace probe
