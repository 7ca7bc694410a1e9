#include "probe/lab/pki.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <fstream>

#include "tls/issuer.hpp"

namespace probe {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The lab forest's AD CS object identifiers (AD CS makes them under
// Microsoft's 1.3.6.1.4.1.311.21.8 arc with per-forest random numbers).
constexpr std::string_view kBemsTemplateOid = "1.3.6.1.4.1.311.21.8.7340081.4710341.1.1.101";
constexpr std::string_view kOtherTemplateOid = "1.3.6.1.4.1.311.21.8.7340081.4710341.1.1.102";
constexpr std::string_view kLabPolicyOid = "1.3.6.1.4.1.311.21.8.7340081.4710341.1.2.1";

constexpr FlawInfo kFlaws[] = {
    {LabFlaw::missing_key, "missing-key",
     "BEMS personal/ holds its certificate but no private key file"},
    {LabFlaw::key_mismatch, "key-mismatch",
     "BEMS personal/bems.key is a different key than the one in bems.crt"},
    {LabFlaw::untrusted_root, "untrusted-root",
     "BEMS certificate issued under a separate Rogue Root CA that no trusted-root store holds"},
    {LabFlaw::missing_intermediate, "missing-intermediate",
     "the issuing CA certificate is absent from bems/intermediate/ and from bems.pfx"},
    {LabFlaw::root_in_intermediate_store, "root-in-intermediate-store",
     "bems/intermediate/ also holds a copy of the self-signed root"},
    {LabFlaw::cn_not_fqdn, "cn-not-fqdn",
     "BEMS certificate CN is the single label of the pool name, not its FQDN"},
    {LabFlaw::san_missing_pool, "san-missing-pool",
     "BEMS certificate SAN lacks the pool FQDN (instances kept)"},
    {LabFlaw::san_missing_instance, "san-missing-instance",
     "BEMS certificate SAN lacks the first instance FQDN"},
    {LabFlaw::expired, "expired", "BEMS certificate expired yesterday (valid from 400 days ago)"},
    {LabFlaw::not_yet_valid, "not-yet-valid",
     "BEMS certificate becomes valid only 10 days from now"},
    {LabFlaw::no_client_auth_eku, "no-client-auth-eku",
     "BEMS certificate EKU has serverAuth only, no clientAuth"},
    {LabFlaw::no_digital_signature, "no-digital-signature",
     "BEMS certificate Key Usage is keyEncipherment only, no digitalSignature: its key may not "
     "sign"},
    {LabFlaw::weak_key, "weak-key", "BEMS certificate key is RSA 1024 bits"},
    {LabFlaw::sha1_signature, "sha1-signature", "BEMS certificate is signed with SHA-1"},
    {LabFlaw::separate_untrusted_cas, "separate-untrusted-cas",
     "Lync certificate comes from a separate Partner CA; neither side trusts the other's root"},
    {LabFlaw::intermediate_in_root_store, "intermediate-in-root-store",
     "bems/trusted-root/ also holds the issuing CA, which is not self-signed"},
    {LabFlaw::no_revocation_info, "no-revocation-info",
     "BEMS certificate has no CRL distribution point and no OCSP URL"},
};

constexpr const char* kDefaultRevocationBase = "http://pki.example.com";
constexpr const char* kOrganization = "mtlsprobe Lab";

// A CA of the lab; `file` names its files: ca/<file>.crt, <file>.crl.
struct Authority {
  std::string file;
  tls::Certificate certificate;
  tls::PrivateKey key;
};

class LabWriter {
 public:
  explicit LabWriter(fs::path folder) : folder_(std::move(folder)) {}

  mtls::Status folder(const fs::path& relative) {
    std::error_code ec;
    fs::create_directories(folder_ / relative, ec);
    if (ec) return mtls::Error{(folder_ / relative).string() + ": cannot create: " + ec.message()};
    return mtls::Done{};
  }
  mtls::Status certificate(const fs::path& relative, const tls::Certificate& certificate) {
    return record(relative, tls::write_pem(folder_ / relative, certificate));
  }
  mtls::Status key(const fs::path& relative, const tls::PrivateKey& key) {
    return record(relative, tls::write_private_key_pem(folder_ / relative, key));
  }
  mtls::Status pkcs12(const fs::path& relative, const tls::PrivateKey& key,
                      const tls::Certificate& certificate,
                      const std::vector<tls::Certificate>& chain,
                      const std::optional<tls::Secret>& password) {
    return record(relative,
                  tls::write_pkcs12(folder_ / relative, key, certificate, chain, password));
  }
  mtls::Status text(const fs::path& relative, const std::string& text) {
    std::ofstream out(folder_ / relative, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return mtls::Error{(folder_ / relative).string() + ": cannot write"};
    return record(relative, mtls::Done{});
  }
  const std::vector<fs::path>& written() const { return written_; }

 private:
  mtls::Status record(const fs::path& relative, mtls::Status status) {
    if (status) written_.push_back(relative);
    return status;
  }
  fs::path folder_;
  std::vector<fs::path> written_;
};

// Everything a lab needs, decided before anything is written.
class LabPlan {
 public:
  explicit LabPlan(const LabOptions& options) : options_(options) {
    if (options.flaw)
      if (const FlawInfo* known = find_lab_flaw(*options.flaw)) flaw_ = known->flaw;
    base_ = options.revocation_url.value_or(kDefaultRevocationBase);
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
    now_ = std::chrono::time_point_cast<std::chrono::seconds>(tls::Clock::now());
  }

  bool flawed(LabFlaw flaw) const { return flaw_ == flaw; }

  mtls::Result<tls::PrivateKey> key() const {
    if (options_.key_type == LabKeyType::ecdsa_p256)
      return tls::generate_key({tls::KeySpec::ec, 0, "P-256"});
    return tls::generate_key({tls::KeySpec::rsa, 2048, ""});
  }

  mtls::Result<Authority> root(const std::string& name, const std::string& file) const {
    auto key = this->key();
    if (!key) return key.error();
    auto spec = ca_spec(name);
    auto certificate = tls::issue_certificate(spec, *key, nullptr, *key);
    if (!certificate) return certificate.error();
    return Authority{file, *certificate, *key};
  }

  mtls::Result<Authority> issuing(const std::string& name, const std::string& file,
                                  const Authority& root) const {
    auto key = this->key();
    if (!key) return key.error();
    auto spec = ca_spec(name);
    spec.path_length = 0;
    add_revocation(spec, root);
    auto certificate = tls::issue_certificate(spec, *key, &root.certificate, root.key);
    if (!certificate) return certificate.error();
    return Authority{file, *certificate, *key};
  }

  tls::CertificateSpec leaf_spec(const std::string& common_name, std::vector<std::string> names,
                                 const Authority& issuer) const {
    tls::CertificateSpec spec;
    spec.common_name = common_name;
    spec.organization = kOrganization;
    spec.dns_names = std::move(names);
    spec.eku = {"serverAuth", "clientAuth"};
    spec.not_before = now_ - 1h;
    spec.not_after = now_ + options_.days * 24h;
    add_revocation(spec, issuer);
    return spec;
  }

  // The BEMS certificate's spec with the flaw, if it is one of the
  // certificate's own, applied.
  tls::CertificateSpec bems_spec(const Authority& issuer, bool other_template = false) const {
    std::vector<std::string> names{options_.pool};
    names.insert(names.end(), options_.instances.begin(), options_.instances.end());
    auto spec = leaf_spec(options_.pool, names, issuer);
    // As an enterprise CA (AD CS) issues it, so a rollover has a template and
    // policies to compare.
    spec.certificate_template = {std::string(other_template ? kOtherTemplateOid : kBemsTemplateOid),
                                 100, other_template ? 0 : 1};
    if (!other_template) spec.policies = {std::string(kLabPolicyOid)};
    if (flawed(LabFlaw::cn_not_fqdn))
      spec.common_name = options_.pool.substr(0, options_.pool.find('.'));
    if (flawed(LabFlaw::san_missing_pool)) spec.dns_names.erase(spec.dns_names.begin());
    if (flawed(LabFlaw::san_missing_instance))
      std::erase(spec.dns_names, options_.instances.front());  // the pool may equal no instance
    if (flawed(LabFlaw::expired)) {
      spec.not_before = now_ - 400 * 24h;
      spec.not_after = now_ - 24h;
    }
    if (flawed(LabFlaw::not_yet_valid)) {
      spec.not_before = now_ + 10 * 24h;
      spec.not_after = std::max(spec.not_after, spec.not_before + options_.days * 24h);
    }
    if (flawed(LabFlaw::no_client_auth_eku)) spec.eku = {"serverAuth"};
    if (flawed(LabFlaw::no_digital_signature)) spec.key_usage = {"keyEncipherment"};
    if (flawed(LabFlaw::sha1_signature)) spec.digest = "SHA1";
    if (flawed(LabFlaw::no_revocation_info)) {
      spec.crl_urls.clear();
      spec.ocsp_urls.clear();
    }
    return spec;
  }

  std::string crl_url(const Authority& issuer) const {
    return base_ + "/crl/" + issuer.file + ".crl";
  }
  std::string ocsp_url() const { return base_ + "/ocsp"; }

 private:
  tls::CertificateSpec ca_spec(const std::string& name) const {
    tls::CertificateSpec spec;
    spec.common_name = name;
    spec.organization = kOrganization;
    spec.is_ca = true;
    // Wider than any leaf, also the expired and not-yet-valid ones, so a
    // validity flaw stays the leaf's alone.
    spec.not_before = now_ - 730 * 24h;
    spec.not_after = now_ + (options_.days + 730) * 24h;
    return spec;
  }

  void add_revocation(tls::CertificateSpec& spec, const Authority& issuer) const {
    spec.crl_urls = {crl_url(issuer)};
    spec.ocsp_urls = {ocsp_url()};
    spec.ca_issuer_urls = {base_ + "/ca/" + issuer.file + ".crt"};
  }

  const LabOptions& options_;
  std::optional<LabFlaw> flaw_;
  std::string base_;
  tls::Clock::time_point now_;
};

mtls::Status remove_earlier_lab(const fs::path& folder) {
  LabLayout layout;
  std::error_code ec;
  for (const auto& owned : {layout.bems_store, layout.lync_store, layout.ca_folder, layout.bems_pfx,
                            layout.lync_pfx, layout.manifest}) {
    fs::remove_all(folder / owned, ec);
    if (ec) return mtls::Error{(folder / owned).string() + ": cannot remove: " + ec.message()};
  }
  return mtls::Done{};
}

std::string key_type_name(LabKeyType type) {
  return type == LabKeyType::ecdsa_p256 ? "ecdsa-p256" : "rsa2048";
}

std::string manifest_json(const LabOptions& options, const LabLayout& layout,
                          const std::vector<const Authority*>& authorities, bool has_bems_key) {
  boost::json::object files;
  files["bems_store"] = layout.bems_store.string();
  files["lync_store"] = layout.lync_store.string();
  files["bems_cert"] = layout.bems_cert.string();
  files["bems_key"] = has_bems_key ? boost::json::value(layout.bems_key.string()) : nullptr;
  files["lync_cert"] = layout.lync_cert.string();
  files["lync_key"] = layout.lync_key.string();
  files["bems_pfx"] = layout.bems_pfx.string();
  files["lync_pfx"] = layout.lync_pfx.string();
  boost::json::object cas;
  for (const auto* authority : authorities) {
    cas[authority->file] = {
        {"subject", authority->certificate.subject()},
        {"cert", (layout.ca_folder / (authority->file + ".crt")).string()},
        {"key", (layout.ca_folder / (authority->file + ".key")).string()},
    };
  }
  files["ca"] = std::move(cas);

  boost::json::array instances;
  for (const auto& instance : options.instances) instances.emplace_back(instance);
  boost::json::object lab;
  lab["pool"] = options.pool;
  lab["instances"] = std::move(instances);
  lab["lync_pool"] = options.lync_pool;
  lab["flaw"] = options.flaw ? boost::json::value(*options.flaw) : nullptr;
  lab["key_type"] = key_type_name(options.key_type);
  lab["days"] = options.days;
  lab["revocation_base"] = options.revocation_url.value_or(kDefaultRevocationBase);
  lab["pfx_password_protected"] = options.pfx_password.has_value();
  lab["files"] = std::move(files);
  return boost::json::serialize(lab) + "\n";
}

// One CA hierarchy of the lab: a root and the issuing CA under it.
struct Hierarchy {
  Authority root;
  Authority issuing;
};

mtls::Result<Hierarchy> make_hierarchy(const LabPlan& plan, const std::string& name,
                                       const std::string& file) {
  auto root = plan.root(name + " Root CA", file + "-root");
  if (!root) return root.error();
  auto issuing = plan.issuing(name + " Issuing CA", file + "-issuing-ca", *root);
  if (!issuing) return issuing.error();
  return Hierarchy{*root, *issuing};
}

// The lab's CAs: the shared hierarchy, and the separate one a trust flaw needs.
struct LabAuthorities {
  Hierarchy lab;
  std::optional<Hierarchy> rogue;    // untrusted-root: issues the BEMS certificate
  std::optional<Hierarchy> partner;  // separate-untrusted-cas: issues the Lync certificate

  const Authority& bems_issuer() const { return rogue ? rogue->issuing : lab.issuing; }
  const Authority& lync_issuer() const { return partner ? partner->issuing : lab.issuing; }
  const Authority& lync_root() const { return partner ? partner->root : lab.root; }
  std::vector<const Authority*> all() const {
    std::vector<const Authority*> all{&lab.root, &lab.issuing};
    for (const auto* extra : {&rogue, &partner})
      if (*extra) all.insert(all.end(), {&(*extra)->root, &(*extra)->issuing});
    return all;
  }
};

mtls::Result<LabAuthorities> make_authorities(const LabPlan& plan) {
  auto lab = make_hierarchy(plan, "mtlsprobe Lab", "lab");
  if (!lab) return lab.error();
  LabAuthorities authorities{*lab, std::nullopt, std::nullopt};
  if (plan.flawed(LabFlaw::untrusted_root)) {
    auto rogue = make_hierarchy(plan, "Rogue", "rogue");
    if (!rogue) return rogue.error();
    authorities.rogue = *rogue;
  }
  if (plan.flawed(LabFlaw::separate_untrusted_cas)) {
    auto partner = make_hierarchy(plan, "Partner", "partner");
    if (!partner) return partner.error();
    authorities.partner = *partner;
  }
  return authorities;
}

struct LabLeaves {
  tls::Certificate bems;
  tls::PrivateKey bems_key;
  tls::Certificate lync;
  tls::PrivateKey lync_key;
};

mtls::Result<LabLeaves> issue_leaves(const LabPlan& plan, const LabAuthorities& authorities,
                                     const LabOptions& options) {
  const Authority& bems_issuer = authorities.bems_issuer();
  auto bems_key = plan.flawed(LabFlaw::weak_key) ? tls::generate_key({tls::KeySpec::rsa, 1024, ""})
                                                 : plan.key();
  if (!bems_key) return bems_key.error();
  auto bems = tls::issue_certificate(plan.bems_spec(bems_issuer), *bems_key,
                                     &bems_issuer.certificate, bems_issuer.key);
  if (!bems) return mtls::Error{"BEMS certificate: " + bems.error().message};

  const Authority& lync_issuer = authorities.lync_issuer();
  auto lync_key = plan.key();
  if (!lync_key) return lync_key.error();
  auto lync =
      tls::issue_certificate(plan.leaf_spec(options.lync_pool, {options.lync_pool}, lync_issuer),
                             *lync_key, &lync_issuer.certificate, lync_issuer.key);
  if (!lync) return mtls::Error{"Lync certificate: " + lync.error().message};
  return LabLeaves{*bems, *bems_key, *lync, *lync_key};
}

std::string crt(const Authority& authority) { return authority.file + ".crt"; }

// The steps below add each write's status to `steps`; an error returned
// directly is one that stops the lab before anything else is written.
mtls::Status write_bems_store(LabWriter& write, const LabPlan& plan,
                              const LabAuthorities& authorities, const LabLeaves& leaves,
                              std::vector<mtls::Status>& steps) {
  LabLayout layout;
  const Authority& root = authorities.lab.root;
  const Authority& issuing = authorities.lab.issuing;
  steps.push_back(write.certificate(layout.bems_cert, leaves.bems));
  if (plan.flawed(LabFlaw::key_mismatch)) {
    auto other = plan.key();
    if (!other) return other.error();
    steps.push_back(write.key(layout.bems_key, *other));
  } else if (!plan.flawed(LabFlaw::missing_key)) {
    steps.push_back(write.key(layout.bems_key, leaves.bems_key));
  }
  steps.push_back(write.certificate(fs::path("bems/trusted-root") / crt(root), root.certificate));
  if (plan.flawed(LabFlaw::intermediate_in_root_store))
    steps.push_back(
        write.certificate(fs::path("bems/trusted-root") / crt(issuing), issuing.certificate));
  if (!plan.flawed(LabFlaw::missing_intermediate))
    steps.push_back(
        write.certificate(fs::path("bems/intermediate") / crt(issuing), issuing.certificate));
  if (authorities.rogue)
    steps.push_back(
        write.certificate(fs::path("bems/intermediate") / crt(authorities.rogue->issuing),
                          authorities.rogue->issuing.certificate));
  if (plan.flawed(LabFlaw::root_in_intermediate_store))
    steps.push_back(write.certificate(fs::path("bems/intermediate") / crt(root), root.certificate));
  return mtls::Done{};
}

void write_lync_store(LabWriter& write, const LabAuthorities& authorities, const LabLeaves& leaves,
                      std::vector<mtls::Status>& steps) {
  LabLayout layout;
  const Authority& lync_root = authorities.lync_root();
  const Authority& lync_issuer = authorities.lync_issuer();
  steps.push_back(write.certificate(layout.lync_cert, leaves.lync));
  steps.push_back(write.key(layout.lync_key, leaves.lync_key));
  steps.push_back(
      write.certificate(fs::path("lync/trusted-root") / crt(lync_root), lync_root.certificate));
  steps.push_back(
      write.certificate(fs::path("lync/intermediate") / crt(lync_issuer), lync_issuer.certificate));
}

// .pfx copies: leaf, key and the issuing CA, as an admin imports them.
void write_pfx_files(LabWriter& write, const LabPlan& plan, const LabAuthorities& authorities,
                     const LabLeaves& leaves, const LabOptions& options,
                     std::vector<mtls::Status>& steps) {
  LabLayout layout;
  std::vector<tls::Certificate> bems_chain;
  if (!plan.flawed(LabFlaw::missing_intermediate))
    bems_chain.push_back(authorities.bems_issuer().certificate);
  steps.push_back(write.pkcs12(layout.bems_pfx, leaves.bems_key, leaves.bems, bems_chain,
                               options.pfx_password));
  steps.push_back(write.pkcs12(layout.lync_pfx, leaves.lync_key, leaves.lync,
                               {authorities.lync_issuer().certificate}, options.pfx_password));
}

// The CAs with their keys, so CRLs and OCSP responses can be signed later,
// and the manifest.
void write_authorities(LabWriter& write, const LabPlan& plan, const LabAuthorities& authorities,
                       const LabOptions& options, std::vector<mtls::Status>& steps) {
  LabLayout layout;
  for (const auto* authority : authorities.all()) {
    steps.push_back(write.certificate(layout.ca_folder / crt(*authority), authority->certificate));
    steps.push_back(write.key(layout.ca_folder / (authority->file + ".key"), authority->key));
  }
  steps.push_back(write.text(layout.manifest, manifest_json(options, layout, authorities.all(),
                                                            !plan.flawed(LabFlaw::missing_key))));
}

}  // namespace

std::span<const FlawInfo> lab_flaws() { return kFlaws; }

const FlawInfo* find_lab_flaw(std::string_view name) {
  for (const auto& flaw : kFlaws)
    if (flaw.name == name) return &flaw;
  return nullptr;
}

std::string lab_flaw_names() {
  std::string names;
  for (const auto& flaw : kFlaws) {
    if (!names.empty()) names += ", ";
    names += flaw.name;
  }
  return names;
}

mtls::Status validate_lab_options(const LabOptions& options) {
  if (!tls::is_valid_fqdn(options.pool))
    return mtls::Error{"--pool '" + options.pool +
                       "' is not a valid FQDN (e.g. bemspool.example.com)"};
  for (const auto& instance : options.instances)
    if (!tls::is_valid_fqdn(instance))
      return mtls::Error{"--instance '" + instance +
                         "' is not a valid FQDN (e.g. bemsserver01.example.com)"};
  if (!tls::is_valid_fqdn(options.lync_pool))
    return mtls::Error{"--lync-pool '" + options.lync_pool +
                       "' is not a valid FQDN (e.g. lyncpool.example.com)"};
  if (options.days < 1 || options.days > 36500)
    return mtls::Error{"--days " + std::to_string(options.days) + " is out of range (1 to 36500)"};
  if (options.revocation_url) {
    auto url = boost::urls::parse_absolute_uri(*options.revocation_url);
    if (!url || url->scheme() != "http" || !url->has_authority() || url->host().empty() ||
        url->has_query() || url->has_fragment() ||
        options.revocation_url->find(',') != std::string::npos)
      return mtls::Error{"--revocation-url '" + *options.revocation_url +
                         "' is not a plain http://HOST[:PORT] base URL (Lync needs HTTP CDPs)"};
  }
  if (options.flaw) {
    if (!find_lab_flaw(*options.flaw))
      return mtls::Error{"--flaw '" + *options.flaw +
                         "' is unknown; valid flaws: " + lab_flaw_names()};
    if (find_lab_flaw(*options.flaw)->flaw == LabFlaw::san_missing_instance &&
        options.instances.empty())
      return mtls::Error{"--flaw san-missing-instance needs at least one --instance"};
  }
  return mtls::Done{};
}

mtls::Result<LabResult> build_lab(const fs::path& folder, const LabOptions& options) {
  if (auto valid = validate_lab_options(options); !valid) return valid.error();
  LabPlan plan(options);
  auto authorities = make_authorities(plan);
  if (!authorities) return authorities.error();
  auto leaves = issue_leaves(plan, *authorities, options);
  if (!leaves) return leaves.error();

  if (auto removed = remove_earlier_lab(folder); !removed) return removed.error();
  LabWriter write(folder);
  for (const auto& sub : {"bems/personal", "bems/trusted-root", "bems/intermediate",
                          "lync/personal", "lync/trusted-root", "lync/intermediate", "ca"})
    if (auto made = write.folder(sub); !made) return made.error();
  std::vector<mtls::Status> steps;
  if (auto bems = write_bems_store(write, plan, *authorities, *leaves, steps); !bems)
    return bems.error();
  write_lync_store(write, *authorities, *leaves, steps);
  write_pfx_files(write, plan, *authorities, *leaves, options, steps);
  write_authorities(write, plan, *authorities, options, steps);
  for (const auto& step : steps)
    if (!step) return step.error();
  return LabResult{write.written()};
}

namespace {

constexpr std::string_view kReissueFlaws[] = {
    "missing-key",
    "key-mismatch",
    "missing-intermediate",
    "cn-not-fqdn",
    "san-missing-pool",
    "san-missing-instance",
    "expired",
    "not-yet-valid",
    "no-client-auth-eku",
    "weak-key",
    "sha1-signature",
    "no-revocation-info",
    "no-digital-signature",
};

tls::Result<Authority> load_authority(const fs::path& lab, const std::string& file) {
  LabLayout layout;
  auto certificate = tls::load_credential_file(lab / layout.ca_folder / (file + ".crt"), {});
  if (!certificate) return certificate.error();
  auto key = tls::load_credential_file(lab / layout.ca_folder / (file + ".key"), {});
  if (!key) return key.error();
  if (certificate->certificates.empty() || !key->key)
    return tls::Error{(lab / layout.ca_folder / file).string() +
                      ".crt/.key: no CA certificate and key there"};
  return Authority{file, certificate->certificates.front(), *key->key};
}

// The lab's options as `pki init` wrote them into lab.json.
tls::Result<LabOptions> read_manifest(const fs::path& lab, boost::json::object& manifest) {
  LabLayout layout;
  auto text = tls::read_file_limited(lab / layout.manifest, 1024 * 1024);
  if (!text)
    return tls::Error{(lab / layout.manifest).string() +
                      ": not a lab made by `mtlsprobe pki init` (" + text.error().message + ")"};
  boost::system::error_code ec;
  auto parsed = boost::json::parse(*text, ec);
  if (ec || !parsed.is_object())
    return tls::Error{(lab / layout.manifest).string() + ": not valid JSON"};
  manifest = parsed.as_object();
  LabOptions options;
  try {
    options.pool = std::string(manifest.at("pool").as_string());
    options.instances.clear();
    for (const auto& instance : manifest.at("instances").as_array())
      options.instances.emplace_back(instance.as_string());
    options.lync_pool = std::string(manifest.at("lync_pool").as_string());
    options.key_type = manifest.at("key_type").as_string() == "ecdsa-p256" ? LabKeyType::ecdsa_p256
                                                                           : LabKeyType::rsa2048;
    options.days = static_cast<int>(manifest.at("days").to_number<std::int64_t>());
    std::string base(manifest.at("revocation_base").as_string());
    if (base != kDefaultRevocationBase) options.revocation_url = base;
  } catch (const std::exception&) {
    return tls::Error{(lab / layout.manifest).string() +
                      ": lacks pool, instances, lync_pool, key_type, days or revocation_base"};
  }
  return options;
}

}  // namespace

bool reissue_flaw_allowed(std::string_view name) {
  return std::find(std::begin(kReissueFlaws), std::end(kReissueFlaws), name) !=
         std::end(kReissueFlaws);
}

std::string reissue_flaw_names() {
  std::string names;
  for (auto name : kReissueFlaws) names += (names.empty() ? "" : ", ") + std::string(name);
  return names;
}

tls::Result<LabResult> reissue_lab(const fs::path& folder, const ReissueOptions& reissue) {
  boost::json::object manifest;
  auto read = read_manifest(folder, manifest);
  if (!read) return read.error();
  LabOptions options = *read;
  if (reissue.key_type) options.key_type = *reissue.key_type;
  if (reissue.days) options.days = *reissue.days;
  options.flaw = reissue.flaw;
  options.pfx_password = reissue.pfx_password;
  if (reissue.flaw && !reissue_flaw_allowed(*reissue.flaw))
    return tls::Error{"--flaw '" + *reissue.flaw +
                      "' cannot be given to a next certificate; valid: " + reissue_flaw_names()};
  if (auto valid = validate_lab_options(options); !valid) return valid.error();
  LabPlan plan(options);
  LabLayout layout;
  ReissueLayout next;

  auto root = load_authority(folder, "lab-root");
  if (!root) return root.error();
  auto issuing = load_authority(folder, "lab-issuing-ca");
  if (!issuing) return issuing.error();

  std::vector<Authority> created;
  std::optional<Authority> new_root, new_issuing;
  if (reissue.new_root) {
    auto r = plan.root("mtlsprobe Lab Root CA 2", "lab-root-2");
    if (!r) return r.error();
    new_root = *r;
    created.push_back(*new_root);
  }
  if (reissue.new_root || reissue.new_issuing_ca) {
    const Authority& parent = new_root ? *new_root : *root;
    auto i = plan.issuing("mtlsprobe Lab Issuing CA 2", "lab-issuing-ca-2", parent);
    if (!i) return i.error();
    new_issuing = *i;
    created.push_back(*new_issuing);
  }
  const Authority& issuer = new_issuing ? *new_issuing : *issuing;
  auto key = plan.flawed(LabFlaw::weak_key) ? tls::generate_key({tls::KeySpec::rsa, 1024, ""})
                                            : plan.key();
  if (!key) return key.error();
  auto certificate = tls::issue_certificate(plan.bems_spec(issuer, reissue.other_template), *key,
                                            &issuer.certificate, issuer.key);
  if (!certificate) return tls::Error{"next BEMS certificate: " + certificate.error().message};

  std::error_code ec;
  for (const auto& owned : {next.store, next.pfx}) {
    fs::remove_all(folder / owned, ec);
    if (ec) return tls::Error{(folder / owned).string() + ": cannot remove: " + ec.message()};
  }
  LabWriter write(folder);
  for (const auto& sub : {"next/personal", "next/trusted-root", "next/intermediate"})
    if (auto s = write.folder(fs::path(sub)); !s) return s.error();
  auto crt = [](const Authority& authority) { return authority.file + ".crt"; };
  std::vector<tls::Status> steps;
  steps.push_back(write.certificate(next.cert, *certificate));
  if (plan.flawed(LabFlaw::key_mismatch)) {
    auto other = plan.key();
    if (!other) return other.error();
    steps.push_back(write.key(next.key, *other));
  } else if (!plan.flawed(LabFlaw::missing_key)) {
    steps.push_back(write.key(next.key, *key));
  }
  // BEMS after the switch: its roots and intermediates still chain the Lync
  // certificate (lab root and issuing CA), plus whatever the next one needs.
  const fs::path roots = next.store / "trusted-root", intermediates = next.store / "intermediate";
  steps.push_back(write.certificate(roots / crt(*root), root->certificate));
  if (new_root) steps.push_back(write.certificate(roots / crt(*new_root), new_root->certificate));
  if (new_issuing || !plan.flawed(LabFlaw::missing_intermediate))
    steps.push_back(write.certificate(intermediates / crt(*issuing), issuing->certificate));
  if (new_issuing && !plan.flawed(LabFlaw::missing_intermediate))
    steps.push_back(write.certificate(intermediates / crt(*new_issuing), new_issuing->certificate));
  std::vector<tls::Certificate> chain;
  if (!plan.flawed(LabFlaw::missing_intermediate)) chain.push_back(issuer.certificate);
  steps.push_back(write.pkcs12(next.pfx, *key, *certificate, chain, options.pfx_password));
  for (const auto& authority : created) {
    // A CRL left by an earlier reissue is signed by that CA's older key:
    // `pki serve` issues a missing one at start, so remove it.
    fs::remove(folder / layout.ca_folder / (authority.file + ".crl"), ec);
    steps.push_back(write.certificate(layout.ca_folder / crt(authority), authority.certificate));
    steps.push_back(write.key(layout.ca_folder / (authority.file + ".key"), authority.key));
  }
  auto* files = manifest.if_contains("files");
  auto* cas = files && files->is_object() ? files->as_object().if_contains("ca") : nullptr;
  if (!cas || !cas->is_object())
    return tls::Error{(folder / layout.manifest).string() + ": lacks files.ca"};
  for (const auto& authority : created)
    cas->as_object()[authority.file] = {
        {"subject", authority.certificate.subject()},
        {"cert", (layout.ca_folder / crt(authority)).string()},
        {"key", (layout.ca_folder / (authority.file + ".key")).string()},
    };
  manifest["next"] = {
      {"store", next.store.string()},
      {"cert", next.cert.string()},
      {"key", plan.flawed(LabFlaw::missing_key) ? boost::json::value(nullptr)
                                                : boost::json::value(next.key.string())},
      {"pfx", next.pfx.string()},
      {"issuer", issuer.certificate.subject()},
      {"new_issuing_ca", reissue.new_issuing_ca || reissue.new_root},
      {"new_root", reissue.new_root},
      {"other_template", reissue.other_template},
      {"flaw", reissue.flaw ? boost::json::value(*reissue.flaw) : nullptr},
      {"key_type", key_type_name(options.key_type)},
  };
  steps.push_back(write.text(layout.manifest, boost::json::serialize(manifest) + "\n"));
  for (const auto& step : steps)
    if (!step) return step.error();
  return LabResult{write.written()};
}

}  // namespace probe
