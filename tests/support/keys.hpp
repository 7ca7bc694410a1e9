#pragma once
// Keys for certificates made at test time: P-256, fast to generate.
#include "tls/issuer.hpp"

namespace testing {

inline tls::PrivateKey ec_key() {
  tls::KeySpec spec;
  spec.type = tls::KeySpec::ec;
  return tls::generate_key(spec).value();
}

}  // namespace testing
