// Chain verification with OpenSSL's strict X.509 checks, at a given time.
#pragma once

#include <string>
#include <vector>

#include "pki/certificate.h"

namespace meshtrust::pki {

struct VerifyResult {
  bool ok = false;
  std::string error;  // OpenSSL's reason when !ok, e.g. "certificate has expired"
  int depth = -1;     // where in the chain it failed
};

// Verifies `leaf` up to one of `trusted`, using `untrusted` as intermediates, at time `at`,
// with X509_V_FLAG_X509_STRICT (the same checks as `openssl verify -x509_strict`).
VerifyResult verify_chain(const Certificate& leaf, const std::vector<Certificate>& untrusted,
                          const std::vector<Certificate>& trusted, Time at);

}  // namespace meshtrust::pki
