// Parsed X.509 certificates: immutable values, parsed once, const accessors.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pki/encoding.h"
#include "pki/handles.h"
#include "pki/key.h"

namespace meshtrust::pki {

using Time = std::chrono::sys_seconds;

// A distinguished name as ordered (short name, value) pairs, e.g. {{"O","Istio"},{"CN","Root CA"}}.
struct DistinguishedName {
  std::vector<std::pair<std::string, std::string>> entries;
  std::string to_string() const;  // "O=Istio, CN=Root CA"
  bool operator==(const DistinguishedName&) const = default;
};

// Reads an X509_NAME in order, values converted to UTF-8 (shared by certificates and CSRs).
DistinguishedName read_distinguished_name(const X509_NAME& name);

// A certificate serial number: positive, big-endian bytes without leading zeros.
struct Serial {
  Bytes bytes;
  static Serial random128();  // 128 random bits with the top bit cleared: positive, at most 16 bytes
  static Serial from_hex(std::string_view hex);
  std::string hex() const;  // lowercase, even length
  bool operator==(const Serial&) const = default;
};

class Certificate {
 public:
  explicit Certificate(X509Ptr cert);
  static Certificate from_der(ByteView der);
  // The first CERTIFICATE block of `pem` (what istiod reads from ca-cert.pem).
  static Certificate from_pem(std::string_view pem);
  // Every CERTIFICATE block of `pem`, in order.
  static std::vector<Certificate> all_from_pem(std::string_view pem);

  Certificate(const Certificate& other);
  Certificate& operator=(const Certificate& other);
  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;

  const Bytes& der() const { return der_; }
  std::string pem() const { return to_pem("CERTIFICATE", der_); }  // canonical: same bytes everywhere
  Serial serial() const;
  DistinguishedName subject() const;
  DistinguishedName issuer() const;
  Time not_before() const;
  Time not_after() const;
  bool is_ca() const;
  std::optional<long> path_length() const;
  // The keyUsage bits, bit n being RFC 5280 KeyUsage bit n (the pki::KeyUsageBit values of
  // builder.h: kCrlSign is 1u << 6); nullopt when the extension is absent, which RFC 5280 reads as
  // "no restriction". Throws pki::Error if the extension is repeated or does not decode.
  std::optional<unsigned> key_usage() const;
  PublicKey public_key() const;
  std::string sha256_fingerprint() const;  // lowercase hex of SHA-256 over the DER
  std::vector<std::string> dns_names() const;
  std::vector<std::string> uris() const;
  Bytes subject_key_id() const;  // empty if absent
  bool is_self_signed() const;

  X509& raw() const { return *cert_; }

 private:
  X509Ptr cert_;
  Bytes der_;
};

}  // namespace meshtrust::pki
