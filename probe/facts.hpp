#pragma once
// Certificate and store facts as JSON objects and text lines for the report.
#include <boost/json/object.hpp>

#include "report/model.hpp"
#include "tls/certificate.hpp"
#include "tls/store.hpp"

namespace probe {

boost::json::object certificate_json(const tls::CertificateInfo& info);
std::string rfc3339(tls::Clock::time_point when);
std::string milliseconds_text(double milliseconds);  // "12 ms"

boost::json::object store_json(const tls::Store& store);
report::Section store_section(const std::string& title, const tls::Store& store);

}  // namespace probe
