#include "tls/aia_issuer.hpp"

#include <openssl/pkcs7.h>

#include "tls/detail/openssl.hpp"

namespace tls {
namespace {

using Pkcs7Ptr = std::unique_ptr<PKCS7, Free<PKCS7_free>>;

std::vector<Certificate> pkcs7_certificates(const std::string& body) {
  std::vector<Certificate> found;
  const auto* cursor = reinterpret_cast<const unsigned char*>(body.data());
  Pkcs7Ptr bundle(d2i_PKCS7(nullptr, &cursor, static_cast<long>(body.size())));
  if (!bundle) {
    BioPtr bio(BIO_new_mem_buf(body.data(), static_cast<int>(body.size())));
    bundle.reset(PEM_read_bio_PKCS7(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!bundle || !PKCS7_type_is_signed(bundle.get()) || !bundle->d.sign) return found;
  STACK_OF(X509)* certificates = bundle->d.sign->cert;
  for (int i = 0; certificates && i < sk_X509_num(certificates); ++i) {
    X509* x509 = sk_X509_value(certificates, i);
    X509_up_ref(x509);
    found.emplace_back(x509);
  }
  return found;
}

std::vector<Certificate> pem_certificates(const std::string& body) {
  std::vector<Certificate> found;
  BioPtr bio(BIO_new_mem_buf(body.data(), static_cast<int>(body.size())));
  while (X509* x509 = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
    found.emplace_back(x509);
  return found;
}

}  // namespace

Result<std::vector<Certificate>> parse_issuer_bundle(const std::string& body) {
  std::vector<Certificate> found;
  const std::vector<std::uint8_t> der(body.begin(), body.end());
  if (auto one = Certificate::from_der(der)) found.push_back(std::move(*one));
  if (found.empty()) found = pkcs7_certificates(body);
  if (found.empty()) found = pem_certificates(body);
  clear_openssl_errors();
  if (found.empty())
    return Error{"neither a DER or PEM certificate nor a PKCS#7 bundle (" +
                 std::to_string(body.size()) + " bytes)"};
  return found;
}

std::vector<IssuerDownload> download_issuer(const Certificate& child,
                                            const HttpClientOptions& options) {
  // The URLs come from a peer's certificate: 20 of them at the default
  // timeout would be 200 s. All of them share one fetch timeout, and only
  // the first few are tried.
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  std::vector<IssuerDownload> tried;
  std::size_t fetched_count = 0;
  for (const std::string& url : child.info().ca_issuer_urls) {
    IssuerDownload download;
    download.url = url;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (fetched_count >= kMaxIssuerUrls || left <= std::chrono::milliseconds(0)) {
      download.error = url + ": not tried (" +
                       (fetched_count >= kMaxIssuerUrls
                            ? "only the first " + std::to_string(kMaxIssuerUrls) + " URLs are"
                            : "the " + std::to_string(options.timeout.count()) +
                                  " ms allowed for all caIssuers URLs had passed") +
                       ")";
      tried.push_back(std::move(download));
      continue;
    }
    if (auto reason = why_not_fetchable(url)) {
      download.error = *reason;
      tried.push_back(std::move(download));
      continue;
    }
    HttpRequest request;
    request.url = url;
    HttpClientOptions bounded = options;
    bounded.timeout = left;
    ++fetched_count;
    HttpResult fetched = http_fetch(request, bounded);
    download.elapsed = fetched.elapsed;
    if (!fetched.ok()) {
      download.error = fetched.error;
    } else if (auto certificates = parse_issuer_bundle(fetched.body); !certificates) {
      download.error = url + " returned " + certificates.error().message;
    } else {
      download.certificates_received = certificates->size();
      for (const Certificate& candidate : *certificates)
        if (!download.issuer && child.issued_by(candidate)) download.issuer = candidate;
      if (!download.issuer)
        download.error = url + " returned " + std::to_string(certificates->size()) +
                         " certificate(s), none of which signed " + child.subject();
    }
    const bool found = download.issuer.has_value();
    tried.push_back(std::move(download));
    if (found) break;
  }
  return tried;
}

}  // namespace tls
