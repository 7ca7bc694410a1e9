#include "probe/findings.hpp"

#include <algorithm>
#include <array>

namespace probe {
namespace {

constexpr std::array kCatalogue{
#define MTLSPROBE_FINDING_KIND(name, text, heading, meaning) \
  FindingKind{FindingId::name, text, requirement::heading, meaning},
    MTLSPROBE_FINDING_IDS(MTLSPROBE_FINDING_KIND)
#undef MTLSPROBE_FINDING_KIND
};

constexpr bool indexed_by_id() {
  for (std::size_t i = 0; i < kCatalogue.size(); ++i)
    if (static_cast<std::size_t>(kCatalogue[i].id) != i) return false;
  return true;
}
static_assert(indexed_by_id(), "finding_kind() indexes the catalogue by FindingId");

}  // namespace

std::span<const FindingKind> finding_catalogue() { return kCatalogue; }

const FindingKind& finding_kind(FindingId id) { return kCatalogue[static_cast<std::size_t>(id)]; }

std::string id_text(FindingId id) { return std::string(finding_kind(id).text); }

const FindingKind* find_finding_kind(std::string_view text) {
  auto it = std::find_if(kCatalogue.begin(), kCatalogue.end(),
                         [&](const FindingKind& kind) { return kind.text == text; });
  return it == kCatalogue.end() ? nullptr : &*it;
}

std::string side_name(Side side) { return side == Side::bems ? "BEMS" : "Lync/Skype pool"; }
std::string side_id(Side side) { return side == Side::bems ? "bems" : "lync"; }
Side other(Side side) { return side == Side::bems ? Side::lync : Side::bems; }
FindingId for_side(Side side, FindingId bems, FindingId lync) {
  return side == Side::bems ? bems : lync;
}

report::Finding finding(FindingId id, std::string title) {
  const FindingKind& kind = finding_kind(id);
  report::Finding f;
  f.id = std::string(kind.text);
  f.requirement = kind.requirement;
  f.title = std::move(title);
  return f;
}

report::Finding& pass(report::Finding& f, std::string detail) {
  f.status = report::Status::pass;
  f.detail = std::move(detail);
  f.remedy.clear();
  return f;
}

report::Finding& warn(report::Finding& f, std::string detail, std::string remedy) {
  f.status = report::Status::warn;
  f.detail = std::move(detail);
  f.remedy = std::move(remedy);
  return f;
}

report::Finding& fail(report::Finding& f, std::string detail, std::string remedy) {
  f.status = report::Status::fail;
  f.detail = std::move(detail);
  f.remedy = std::move(remedy);
  return f;
}

report::Finding& skip(report::Finding& f, std::string reason) {
  f.status = report::Status::skip;
  f.detail = std::move(reason);
  f.remedy.clear();
  return f;
}

report::Finding& about(report::Finding& f, const tls::CertificateInfo& info) {
  f.certificate = certificate_ref(info);
  return f;
}

report::CertificateRef certificate_ref(const tls::CertificateInfo& info) {
  return {info.subject, info.issuer, info.serial_hex, info.sha256};
}

}  // namespace probe
