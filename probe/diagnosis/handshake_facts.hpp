#pragma once
// A handshake record as report text lines and JSON facts.
#include <boost/json/object.hpp>

#include "report/model.hpp"
#include "tls/handshake_record.hpp"

namespace probe {

report::Section handshake_section(const std::string& title, const tls::HandshakeRecord& record);
boost::json::object handshake_json(const tls::HandshakeRecord& record);

}  // namespace probe
