// Builds and signs certificates from typed extensions. The caller (ca/'s profiles) decides
// *which* extensions a certificate gets; this only encodes and signs them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "pki/key.h"

namespace meshtrust::pki {

enum KeyUsageBit : unsigned {
  kDigitalSignature = 1u << 0,
  kNonRepudiation = 1u << 1,
  kKeyEncipherment = 1u << 2,
  kDataEncipherment = 1u << 3,
  kKeyAgreement = 1u << 4,
  kKeyCertSign = 1u << 5,
  kCrlSign = 1u << 6,
};

enum class ExtendedKeyUsage { ServerAuth, ClientAuth };

struct BasicConstraints {
  bool ca = false;
  std::optional<long> path_length;
  bool critical = true;
};

struct KeyUsage {
  unsigned bits = 0;
  bool critical = true;
};

// The extension set of one certificate, in the order they are written.
struct Extensions {
  std::optional<BasicConstraints> basic_constraints;
  std::optional<KeyUsage> key_usage;
  std::vector<ExtendedKeyUsage> extended_key_usage;  // empty: no EKU extension
  std::vector<std::string> dns_names;                // SAN dNSName entries
  std::vector<std::string> uris;                     // SAN URI entries
  std::vector<std::string> ip_addresses;             // SAN iPAddress entries (textual IPv4/IPv6)
  bool subject_key_id = true;
  bool authority_key_id = true;  // ignored for self-signed certificates
};

struct CertificateTemplate {
  Serial serial;
  DistinguishedName subject;
  Time not_before;
  Time not_after;
  Extensions extensions;
};

// RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING, as `openssl x509` writes it.
Bytes key_identifier(const PublicKey& key);
// The key id an issuer's signatures name (AKI of certificates and CRLs): its subjectKeyIdentifier,
// or method (1) over its key when it has none.
Bytes authority_key_identifier(const Certificate& issuer);

// Signs `tmpl` for `subject_key` with SHA-256. `issuer` is the issuing CA's certificate and
// `issuer_key` its key; pass std::nullopt for a self-signed certificate (issuer_key is then the
// subject's own key).
Certificate sign_certificate(const CertificateTemplate& tmpl, const PublicKey& subject_key,
                             const std::optional<Certificate>& issuer, const PrivateKey& issuer_key);

}  // namespace meshtrust::pki
