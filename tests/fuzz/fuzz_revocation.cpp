// Revocation answers from a responder or a CRL server: the input is judged
// as a CRL and as an OCSP response for a certificate issued at start-up by
// tls/issuer (dates, signatures and serials all come from the bytes).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "tls/issuer.hpp"
#include "tls/revocation.hpp"

namespace {

struct Pair {
  tls::Certificate leaf;
  tls::Certificate issuer;
};

const Pair& pair() {
  static const Pair* made = [] {
    tls::KeySpec spec;
    spec.type = tls::KeySpec::ec;
    auto ca_key = tls::generate_key(spec);
    auto leaf_key = tls::generate_key(spec);
    if (!ca_key || !leaf_key) std::abort();
    tls::CertificateSpec ca_spec;
    ca_spec.common_name = "Fuzz CA";
    ca_spec.is_ca = true;
    auto ca = tls::issue_certificate(ca_spec, *ca_key, nullptr, *ca_key);
    if (!ca) std::abort();
    tls::CertificateSpec leaf_spec;
    leaf_spec.common_name = "fuzz.example.com";
    leaf_spec.dns_names = {"fuzz.example.com"};
    leaf_spec.serial = std::vector<std::uint8_t>{0x01, 0x02};
    auto leaf = tls::issue_certificate(leaf_spec, *leaf_key, &*ca, *ca_key);
    if (!leaf) std::abort();
    return new Pair{*leaf, *ca};
  }();
  return *made;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Pair& certificates = pair();
  tls::RevocationOptions options;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  (void)tls::evaluate_crl(bytes, certificates.leaf, certificates.issuer, options, "http://x/");
  std::vector<std::uint8_t> der(data, data + size);
  (void)tls::verify_stapled_ocsp(der, certificates.leaf, certificates.issuer, options);
  return 0;
}
