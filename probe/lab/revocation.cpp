#include "probe/lab/revocation.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>

#include "tls/crl_issuer.hpp"

namespace probe {
namespace fs = std::filesystem;

namespace {

fs::path revocations_file(const fs::path& lab) { return lab / "ca" / "revoked.json"; }

mtls::Status write_bytes(const fs::path& file, const std::string& bytes) {
  const fs::path temporary = file.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return mtls::Error{file.string() + ": cannot write"};
  }
  std::error_code ec;
  fs::rename(temporary, file, ec);
  if (ec) return mtls::Error{file.string() + ": cannot write: " + ec.message()};
  return mtls::Done{};
}

}  // namespace

fs::path lab_crl_file(const fs::path& lab, const std::string& ca) {
  return lab / "ca" / (ca + ".crl");
}

mtls::Result<std::vector<LabAuthority>> load_lab_authorities(const fs::path& lab) {
  const fs::path folder = lab / "ca";
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    return mtls::Error{folder.string() + ": no lab CA folder (make one with mtlsprobe pki init)"};
  std::vector<fs::path> certificates;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    if (entry.path().extension() == ".crt") certificates.push_back(entry.path());
  std::sort(certificates.begin(), certificates.end());
  std::vector<LabAuthority> authorities;
  for (const auto& file : certificates) {
    auto key_file = fs::path(file).replace_extension(".key");
    if (!fs::exists(key_file)) continue;  // a CA without its key cannot sign CRLs
    auto certificate = tls::load_credential_file(file, std::nullopt);
    if (!certificate) return certificate.error();
    if (certificate->certificates.empty())
      return mtls::Error{file.string() + ": holds no certificate"};
    auto key = tls::load_credential_file(key_file, std::nullopt);
    if (!key) return key.error();
    if (!key->key) return mtls::Error{key_file.string() + ": holds no private key"};
    if (!key->key->matches(certificate->certificates.front()))
      return mtls::Error{key_file.string() + ": is not the key of " + file.string()};
    authorities.push_back({file.stem().string(), certificate->certificates.front(), *key->key});
  }
  if (authorities.empty())
    return mtls::Error{folder.string() + ": holds no CA certificate (.crt) with its key (.key)"};
  return authorities;
}

mtls::Result<LabRevocationList> load_lab_revocations(const fs::path& lab) {
  const fs::path file = revocations_file(lab);
  LabRevocationList list;
  if (!fs::exists(file)) return list;
  auto text = tls::read_file_limited(file);
  if (!text) return text.error();
  boost::system::error_code ec;
  auto json = boost::json::parse(*text, ec);
  if (ec || !json.is_object()) return mtls::Error{file.string() + ": is not a JSON object"};
  try {
    const auto& root = json.as_object();
    if (auto* number = root.if_contains("crl_number")) list.crl_number = number->to_number<long>();
    if (auto* entries = root.if_contains("revoked")) {
      for (const auto& value : entries->as_array()) {
        const auto& entry = value.as_object();
        LabRevocation revocation;
        revocation.ca = std::string(entry.at("ca").as_string());
        revocation.serial_hex = std::string(entry.at("serial").as_string());
        if (auto* subject = entry.if_contains("subject"))
          revocation.subject = std::string(subject->as_string());
        revocation.revoked_at =
            tls::Clock::from_time_t(entry.at("revoked_at").to_number<long long>());
        revocation.reason = std::string(entry.at("reason").as_string());
        list.entries.push_back(std::move(revocation));
      }
    }
  } catch (const std::exception& e) {
    return mtls::Error{file.string() + ": unexpected content (" + e.what() + ")"};
  }
  return list;
}

mtls::Status save_lab_revocations(const fs::path& lab, const LabRevocationList& list) {
  boost::json::array entries;
  for (const auto& entry : list.entries) {
    entries.push_back(
        {{"ca", entry.ca},
         {"serial", entry.serial_hex},
         {"subject", entry.subject},
         {"revoked_at", static_cast<long long>(tls::Clock::to_time_t(entry.revoked_at))},
         {"reason", entry.reason}});
  }
  boost::json::object root;
  root["crl_number"] = list.crl_number;
  root["revoked"] = std::move(entries);
  return write_bytes(revocations_file(lab), boost::json::serialize(root) + "\n");
}

mtls::Status issue_lab_crls(const fs::path& lab, bool only_missing) {
  auto authorities = load_lab_authorities(lab);
  if (!authorities) return authorities.error();
  auto list = load_lab_revocations(lab);
  if (!list) return list.error();
  bool issued = false;
  for (const auto& authority : *authorities) {
    const fs::path file = lab_crl_file(lab, authority.name);
    if (only_missing && fs::exists(file)) continue;
    tls::CrlSpec spec;
    spec.number = ++list->crl_number;
    for (const auto& entry : list->entries)
      if (entry.ca == authority.name)
        spec.revoked.push_back({entry.serial_hex, entry.revoked_at, entry.reason});
    auto der = tls::issue_crl(spec, authority.certificate, authority.key);
    if (!der) return mtls::Error{file.string() + ": " + der.error().message};
    if (auto written = write_bytes(file, std::string(der->begin(), der->end())); !written)
      return written;
    issued = true;
  }
  if (issued) return save_lab_revocations(lab, *list);
  return mtls::Done{};
}

mtls::Result<LabRevocation> revoke_in_lab(const fs::path& lab, const tls::Certificate& certificate,
                                          const std::string& reason) {
  auto authorities = load_lab_authorities(lab);
  if (!authorities) return authorities.error();
  const LabAuthority* issuer = nullptr;
  for (const auto& authority : *authorities)
    if (!certificate.same_as(authority.certificate) && certificate.issued_by(authority.certificate))
      issuer = &authority;
  if (!issuer)
    return mtls::Error{tls::describe(certificate.info()) + " was not issued by any CA in " +
                       (lab / "ca").string()};
  auto list = load_lab_revocations(lab);
  if (!list) return list.error();
  for (const auto& entry : list->entries)
    if (entry.ca == issuer->name && entry.serial_hex == certificate.info().serial_hex)
      return mtls::Error{tls::describe(certificate.info()) + " is already revoked (" +
                         entry.reason + ")"};
  LabRevocation revocation{issuer->name, certificate.info().serial_hex, certificate.subject(),
                           tls::Clock::now(), reason};
  list->entries.push_back(revocation);
  if (auto saved = save_lab_revocations(lab, *list); !saved) return saved.error();
  if (auto issued = issue_lab_crls(lab, false); !issued) return issued.error();
  return revocation;
}

mtls::Result<std::vector<tls::OcspAuthority>> lab_ocsp_authorities(const fs::path& lab) {
  auto authorities = load_lab_authorities(lab);
  if (!authorities) return authorities.error();
  auto list = load_lab_revocations(lab);
  if (!list) return list.error();
  std::vector<tls::OcspAuthority> result;
  for (const auto& authority : *authorities) {
    tls::OcspAuthority ocsp(authority.certificate, authority.key);
    for (const auto& entry : list->entries)
      if (entry.ca == authority.name)
        ocsp.revoked.push_back({entry.serial_hex, entry.revoked_at, entry.reason});
    result.push_back(std::move(ocsp));
  }
  return result;
}

}  // namespace probe
