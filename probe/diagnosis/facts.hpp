#pragma once
// Certificate and store facts as JSON objects and text lines for the report.
#include <boost/json/object.hpp>

#include "report/model.hpp"
#include "tls/certificate.hpp"
#include "tls/revocation.hpp"
#include "tls/store.hpp"

namespace probe {

boost::json::object certificate_json(const tls::CertificateInfo& info);
// The AD CS template as one string: "1.3.6.1.4.1.311.21.8.. v100.2", a v1
// template's name, or empty when the certificate names none.
std::string template_text(const tls::CertificateInfo& info);
std::string rfc3339(tls::Clock::time_point when);
std::string milliseconds_text(double milliseconds);  // "12 ms"
std::string age_text(std::chrono::seconds age);      // "40 s", "12 min", "3 h", "2 d"

// One certificate's revocation answer: status, source, URL, dates, age,
// time spent and every attempt.
boost::json::object revocation_json(const tls::RevocationStatus& status);
// "good (stapled OCSP, 2 h old)", "revoked since ... (keyCompromise)", "unavailable: ..."
std::string revocation_text(const tls::RevocationStatus& status);

boost::json::object store_json(const tls::Store& store);
report::Section store_section(const std::string& title, const tls::Store& store);

}  // namespace probe
