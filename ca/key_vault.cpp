#include "ca/key_vault.h"

#include "ca/errors.h"
#include "pki/crypto.h"
#include "pki/error.h"

namespace meshtrust::ca {

namespace {
constexpr std::string_view kCheckPlaintext = "meshtrust key-encryption key check v1";
constexpr std::string_view kCheckAad = "meshtrust:kek-check";
std::string key_aad(const std::string& id) { return "meshtrust:key:" + id; }
}  // namespace

std::string new_kek_file_contents() { return pki::to_hex(pki::random_bytes(32)) + "\n"; }

pki::Bytes KeyVault::derive(const KekSettings& s, const std::string& secret) {
  if (s.mode == KekSettings::Mode::Passphrase) {
    if (secret.empty()) throw Error(ErrorKind::KeyAccess, "the passphrase is empty");
    return pki::scrypt32(secret, s.salt, {s.scrypt_n, s.scrypt_r, s.scrypt_p});
  }
  std::string hex = secret;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
  try {
    pki::Bytes k = pki::from_hex(hex);
    if (k.size() == 32) return k;
  } catch (const pki::Error&) {
  }
  throw Error(ErrorKind::KeyAccess, "the key-encryption key file does not hold 64 hex digits");
}

KekSettings KeyVault::create_settings(KekSettings::Mode mode, const std::string& secret) {
  KekSettings s;
  s.mode = mode;
  if (mode == KekSettings::Mode::Passphrase) {
    s.salt = pki::random_bytes(16);
    pki::ScryptParams p;
    s.scrypt_n = p.n;
    s.scrypt_r = p.r;
    s.scrypt_p = p.p;
  }
  pki::Bytes kek = derive(s, secret);
  s.check = pki::aes256gcm_seal(kek, pki::as_bytes(kCheckPlaintext), pki::as_bytes(kCheckAad));
  pki::wipe(kek);
  return s;
}

KeyVault KeyVault::unlock(const KekSettings& s, const std::string& secret) {
  pki::Bytes kek = derive(s, secret);
  try {
    pki::Bytes check = pki::aes256gcm_open(kek, s.check, pki::as_bytes(kCheckAad));
    if (pki::as_chars(check) != kCheckPlaintext) throw pki::Error("check value differs");
  } catch (const pki::Error&) {
    pki::wipe(kek);
    throw Error(ErrorKind::KeyAccess, s.mode == KekSettings::Mode::Passphrase
                                          ? "the passphrase does not unlock this data dir's keys"
                                          : "the key-encryption key file does not unlock this data dir's keys");
  }
  return KeyVault(std::move(kek));
}

KeyVault::~KeyVault() { pki::wipe(kek_); }

SealedKey KeyVault::seal(const pki::PrivateKey& key) const {
  SealedKey out;
  pki::Bytes spki = key.public_key().der();
  out.id = pki::to_hex(pki::sha256(spki)).substr(0, 32);
  out.algorithm = key.spec().name();
  out.public_der = spki;
  pki::Bytes der = key.pkcs8_der();
  out.sealed = pki::aes256gcm_seal(kek_, der, pki::as_bytes(key_aad(out.id)));
  pki::wipe(der);
  return out;
}

pki::Bytes KeyVault::open_der(const SealedKey& sealed) const {
  try {
    return pki::aes256gcm_open(kek_, sealed.sealed, pki::as_bytes(key_aad(sealed.id)));
  } catch (const pki::Error&) {
    throw Error(ErrorKind::KeyAccess, "stored key " + sealed.id + " does not decrypt: it was altered or belongs to another data dir");
  }
}

pki::PrivateKey KeyVault::open(const SealedKey& sealed) const {
  pki::Bytes der = open_der(sealed);
  auto key = pki::PrivateKey::from_pkcs8_der(der);
  pki::wipe(der);
  return key;
}

std::string KeyVault::open_pem(const SealedKey& sealed) const {
  // The sealed bytes are the key's PKCS#8 DER as seal() wrote them: PEM is their base64, with no
  // need to decode the key (which costs OpenSSL 3 a decoder look-up per key).
  pki::Bytes der = open_der(sealed);
  std::string pem = pki::to_pem("PRIVATE KEY", der);
  pki::wipe(der);
  return pem;
}

pki::Bytes KeyVault::seal_blob(pki::ByteView plaintext, const std::string& purpose) const {
  return pki::aes256gcm_seal(kek_, plaintext, pki::as_bytes("meshtrust:blob:" + purpose));
}

pki::Bytes KeyVault::open_blob(pki::ByteView sealed, const std::string& purpose) const {
  try {
    return pki::aes256gcm_open(kek_, sealed, pki::as_bytes("meshtrust:blob:" + purpose));
  } catch (const pki::Error&) {
    throw Error(ErrorKind::KeyAccess, "stored secret for " + purpose + " does not decrypt: it was altered");
  }
}

}  // namespace meshtrust::ca
