#include "probe/fleet/targets.hpp"

#include <fstream>
#include <sstream>

#include "probe/online/endpoint.hpp"

namespace probe::fleet {

mtls::Result<TargetSpec> parse_target_line(std::string_view line, std::uint16_t default_port) {
  std::istringstream words{std::string(line)};
  std::string word;
  if (!(words >> word)) return mtls::Error{"empty target"};
  auto host = parse_host_port(word, default_port);
  if (!host) return host.error();
  TargetSpec spec;
  spec.host = host->host;
  spec.port = host->port;
  while (words >> word) {
    const auto equals = word.find('=');
    const std::string key = word.substr(0, equals);
    const std::string value = equals == std::string::npos ? "" : word.substr(equals + 1);
    if (key == "sni" && !value.empty()) {
      spec.sni = value;
    } else if (key == "role" && (value == "bems" || value == "lync")) {
      spec.role = value == "lync" ? Side::lync : Side::bems;
    } else {
      return mtls::Error{"'" + word + "' is not sni=NAME or role=bems|lync"};
    }
  }
  return spec;
}

mtls::Result<std::vector<TargetSpec>> read_targets_file(const std::string& path,
                                                        std::uint16_t default_port) {
  std::ifstream in(path);
  if (!in) return mtls::Error{path + ": cannot read the targets file"};
  std::vector<TargetSpec> targets;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    const std::string origin = path + ":" + std::to_string(number);
    if (line.size() > 4096) return mtls::Error{origin + ": line too long"};
    const std::string content = line.substr(0, line.find('#'));
    if (content.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto spec = parse_target_line(content, default_port);
    if (!spec) return mtls::Error{origin + ": " + spec.error().message};
    spec->origin = origin;
    targets.push_back(*spec);
    if (targets.size() > kMaxTargets)
      return mtls::Error{origin + ": more than " + std::to_string(kMaxTargets) +
                         " targets; split the file into several runs"};
  }
  if (in.bad()) return mtls::Error{path + ": read error"};
  return targets;
}

mtls::Result<std::string> srv_name(const std::string& kind, const std::string& domain) {
  // Lync/Skype federation (edge, from outside) and internal (front end)
  // discovery records.
  if (kind == "federation") return "_sipfederationtls._tcp." + domain;
  if (kind == "internal") return "_sipinternaltls._tcp." + domain;
  if (kind.size() > 1 && kind[0] == '_' && kind.find("._") != std::string::npos) return kind;
  return mtls::Error{"--srv " + kind + ": expected federation, internal or _service._proto.domain"};
}

}  // namespace probe::fleet
