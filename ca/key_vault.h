// Keys at rest: every private key is sealed with AES-256-GCM under a key-encryption key (KEK).
// The KEK comes from a passphrase (scrypt) or from a random key file; the secret itself is
// supplied by the front end on demand, so read-only work never needs it.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "ca/model.h"
#include "pki/key.h"

namespace meshtrust::ca {

// The front end's answer when the authority needs the KEK: the passphrase (passphrase mode)
// or the key file's contents (file mode). Throws ca::Error(KeyAccess) if it has none.
using KekSecretSource = std::function<std::string(KekSettings::Mode)>;

class KeyVault {
 public:
  // New settings for a data dir: random salt and a check value sealed under the derived KEK.
  static KekSettings create_settings(KekSettings::Mode mode, const std::string& secret);
  // Derives and checks the KEK. Throws ca::Error(KeyAccess) with a sentence if it is wrong.
  static KeyVault unlock(const KekSettings& settings, const std::string& secret);

  KeyVault(KeyVault&&) noexcept = default;
  ~KeyVault();

  SealedKey seal(const pki::PrivateKey& key) const;
  pki::PrivateKey open(const SealedKey& sealed) const;
  // The key as unencrypted PKCS#8 PEM (what bundles carry), without decoding it.
  std::string open_pem(const SealedKey& sealed) const;

  // Seals arbitrary secret bytes (kubeconfigs) with a purpose bound in as associated data.
  pki::Bytes seal_blob(pki::ByteView plaintext, const std::string& purpose) const;
  pki::Bytes open_blob(pki::ByteView sealed, const std::string& purpose) const;

 private:
  explicit KeyVault(pki::Bytes kek) : kek_(std::move(kek)) {}
  pki::Bytes open_der(const SealedKey& sealed) const;
  static pki::Bytes derive(const KekSettings& settings, const std::string& secret);
  pki::Bytes kek_;
};

// A key file holds 32 random bytes as 64 hex digits.
std::string new_kek_file_contents();

}  // namespace meshtrust::ca
