// `mtlsprobe pki serve DIR --listen ADDR:PORT` publishes the lab's
// revocation data over HTTP: each CA's CRL at /crl/<ca>.crl and an OCSP
// responder at /ocsp (POST, RFC 6960 A.1), the URLs `pki init
// --revocation-url` puts into the certificates.
#include <boost/url/parse.hpp>
#include <iostream>
#include <memory>

#include "probe/commands/commands.hpp"
#include "probe/lab/revocation.hpp"
#include "probe/online/endpoint.hpp"
#include "report/model.hpp"
#include "tls/http_server.hpp"

namespace probe {
namespace fs = std::filesystem;

namespace {

struct ServeArguments {
  fs::path folder;
  std::string listen = "127.0.0.1:8080";
};

int fail(const std::string& message) {
  std::cerr << "mtlsprobe pki serve: " << message << "\n";
  return report::kExitBadInput;
}

tls::HttpServerResponse text(unsigned status, std::string body) {
  tls::HttpServerResponse response;
  response.status = status;
  response.body = std::move(body) + "\n";
  return response;
}

// Names as pki init writes them; anything else (dots, slashes) is refused
// so a request can never reach outside the CA folder.
bool is_plain_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

tls::HttpServerResponse serve_crl(const fs::path& lab, const tls::HttpServerRequest& request) {
  const std::string prefix = "/crl/";
  std::string file = request.path.substr(prefix.size());
  if (request.method != "GET") return text(405, "use GET for CRLs");
  if (!file.ends_with(".crl") || !is_plain_name(file.substr(0, file.size() - 4)))
    return text(404, "no such CRL");
  auto bytes = tls::read_file_limited(lab_crl_file(lab, file.substr(0, file.size() - 4)));
  if (!bytes) return text(404, "no such CRL");
  tls::HttpServerResponse response;
  response.content_type = "application/pkix-crl";
  response.body = std::move(*bytes);
  return response;
}

// AIA caIssuers: the lab CA certificates as DER (RFC 5280 4.2.2.1). Only
// *.crt names are served; the keys next to them never are.
tls::HttpServerResponse serve_ca_certificate(const fs::path& lab,
                                             const tls::HttpServerRequest& request) {
  const std::string prefix = "/ca/";
  std::string file = request.path.substr(prefix.size());
  if (request.method != "GET") return text(405, "use GET for CA certificates");
  if (!file.ends_with(".crt") || !is_plain_name(file.substr(0, file.size() - 4)))
    return text(404, "no such CA certificate");
  auto pem = tls::read_file_limited(lab / "ca" / file);
  if (!pem) return text(404, "no such CA certificate");
  auto certificate = tls::Certificate::from_pem(*pem);
  if (!certificate) return text(500, "the CA certificate cannot be read");
  auto der = certificate->der();
  tls::HttpServerResponse response;
  response.content_type = "application/pkix-cert";
  response.body.assign(der.begin(), der.end());
  return response;
}

tls::HttpServerResponse serve_ocsp(const fs::path& lab, const tls::HttpServerRequest& request) {
  const std::string get_prefix = "/ocsp/";
  const bool get_form = request.method == "GET" && request.path.starts_with(get_prefix);
  if (request.method != "POST" && !get_form)
    return text(405, "POST application/ocsp-request here, or GET /ocsp/BASE64");
  auto authorities = lab_ocsp_authorities(lab);
  if (!authorities) {
    std::cerr << "mtlsprobe pki serve: " << authorities.error().message << "\n";
    return text(500, "the lab cannot be read");
  }
  std::vector<std::uint8_t> answer;
  if (get_form) {
    answer = tls::answer_ocsp_get(std::string_view(request.path).substr(get_prefix.size()),
                                  *authorities);
  } else {
    std::vector<std::uint8_t> der(request.body.begin(), request.body.end());
    answer = tls::answer_ocsp_request(der, *authorities);
  }
  tls::HttpServerResponse response;
  response.content_type = "application/ocsp-response";
  response.body.assign(answer.begin(), answer.end());
  return response;
}

int run_serve(const ServeArguments& arguments) {
  auto authority = boost::urls::parse_authority(arguments.listen);
  if (!authority || !authority->has_port() || authority->port().empty())
    return fail("--listen '" + arguments.listen + "' is not ADDRESS:PORT (e.g. 127.0.0.1:8080)");
  std::string address = authority->host_type() == boost::urls::host_type::ipv6
                            ? authority->host_ipv6_address().to_string()
                            : std::string(authority->host());
  auto port = parse_port(authority->port());
  if (!port) return fail("--listen '" + arguments.listen + "': the port must be 0-65535");
  if (auto issued = issue_lab_crls(arguments.folder, true); !issued)
    return fail(issued.error().message);
  auto authorities = load_lab_authorities(arguments.folder);
  if (!authorities) return fail(authorities.error().message);

  const fs::path lab = arguments.folder;
  std::vector<tls::HttpRoute> routes;
  routes.push_back({"/crl/", [lab](const auto& request) { return serve_crl(lab, request); }});
  routes.push_back(
      {"/ca/", [lab](const auto& request) { return serve_ca_certificate(lab, request); }});
  routes.push_back({"/ocsp/", [lab](const auto& request) { return serve_ocsp(lab, request); }});
  routes.push_back({"/ocsp", [lab](const auto& request) { return serve_ocsp(lab, request); }});
  auto server = tls::HttpServer::listen(address, *port, std::move(routes));
  if (!server) return fail(server.error().message);

  std::cout << "serving the revocation data of " << authorities->size() << " lab CA(s) at "
            << (*server)->url() << "\n";
  for (const auto& ca : *authorities)
    std::cout << "  CRL  " << (*server)->url() << "/crl/" << ca.name << ".crl  ("
              << ca.certificate.subject() << ")\n";
  for (const auto& ca : *authorities)
    std::cout << "  CA   " << (*server)->url() << "/ca/" << ca.name << ".crt\n";
  std::cout << "  OCSP " << (*server)->url() << "/ocsp\n"
            << "Ctrl-C stops.\n"
            << std::flush;
  (*server)->run_until_signal();
  return report::kExitPass;
}

}  // namespace

void add_pki_serve_command(CLI::App& pki, Action& action) {
  auto arguments = std::make_shared<ServeArguments>();
  auto* serve = pki.add_subcommand(
      "serve", "Serve the lab's CRLs (/crl/CA.crl) and an OCSP responder (/ocsp) over HTTP");
  serve->add_option("folder", arguments->folder, "Lab folder made by `mtlsprobe pki init`")
      ->required();
  serve->add_option("--listen", arguments->listen, "ADDRESS:PORT to listen on (port 0: any)")
      ->capture_default_str();
  serve->footer(
      "Example:\n"
      "  mtlsprobe pki init lab --revocation-url http://127.0.0.1:8080\n"
      "  mtlsprobe pki serve lab --listen 127.0.0.1:8080");
  serve->callback([&action, arguments] { action = [arguments] { return run_serve(*arguments); }; });
}

void add_pki_revocation_subcommands(CLI::App& pki, Action& action) {
  add_pki_serve_command(pki, action);
  add_pki_revoke_command(pki, action);
}

}  // namespace probe
