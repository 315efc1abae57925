// PKCS#10 certificate signing requests: parsed, signature-checked, and (for tests and
// cluster-side tooling) created.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pki/certificate.h"
#include "pki/key.h"

namespace meshtrust::pki {

class CertificateRequest {
 public:
  // Parses the first CERTIFICATE REQUEST block and verifies its self-signature; throws
  // pki::Error with a sentence saying which of the two failed.
  static CertificateRequest from_pem(std::string_view pem);

  PublicKey public_key() const;
  DistinguishedName subject() const;
  const Bytes& der() const { return der_; }

 private:
  explicit CertificateRequest(X509ReqPtr req);
  X509ReqPtr req_;
  Bytes der_;
};

// Creates a CSR signed with `key` (SHA-256), with optional DNS SANs requested.
std::string make_csr_pem(const PrivateKey& key, const DistinguishedName& subject,
                         const std::vector<std::string>& dns_names = {});

}  // namespace meshtrust::pki
