// Private and public keys, and the algorithms meshtrust issues with.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pki/encoding.h"
#include "pki/handles.h"

namespace meshtrust::pki {

// A key algorithm by its user-facing name: rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384.
struct KeySpec {
  enum class Type { Rsa, Ec };
  Type type = Type::Ec;
  int bits = 256;  // RSA modulus size, or the curve's size

  static KeySpec parse(std::string_view name);  // throws pki::Error naming the accepted values
  static const std::vector<std::string>& names();
  std::string name() const;
  bool operator==(const KeySpec&) const = default;
};

class PublicKey {
 public:
  explicit PublicKey(PKeyPtr key);
  static PublicKey from_der(ByteView spki_der);

  Bytes der() const;  // SubjectPublicKeyInfo
  std::string pem() const;
  KeySpec spec() const;  // throws pki::Error for algorithms meshtrust does not issue with
  bool operator==(const PublicKey& other) const;
  EVP_PKEY& raw() const { return *key_; }

 private:
  PKeyPtr key_;
};

class PrivateKey {
 public:
  explicit PrivateKey(PKeyPtr key);
  static PrivateKey generate(const KeySpec& spec);
  // Accepts unencrypted PKCS#8 "PRIVATE KEY", "RSA PRIVATE KEY" and "EC PRIVATE KEY" (the first
  // key block; an "EC PARAMETERS" block before it is skipped). Encrypted keys are refused.
  static PrivateKey from_pem(std::string_view pem);
  static PrivateKey from_pkcs8_der(ByteView der);

  Bytes pkcs8_der() const;        // unencrypted PKCS#8; treat the result as secret
  std::string pkcs8_pem() const;  // "PRIVATE KEY", what istiod reads
  PublicKey public_key() const;
  KeySpec spec() const { return public_key().spec(); }
  bool matches(const PublicKey& pub) const { return public_key() == pub; }

  // Signs `data` with SHA-256 (ECDSA: DER signature; RSA: PKCS#1 v1.5).
  Bytes sign_sha256(ByteView data) const;
  EVP_PKEY& raw() const { return *key_; }

 private:
  PKeyPtr key_;
};

// Verifies a SHA-256 signature made by sign_sha256.
bool verify_sha256(const PublicKey& key, ByteView data, ByteView signature);

}  // namespace meshtrust::pki
