#include "pki/key.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "pki/error.h"

namespace meshtrust::pki {

namespace {

struct NamedSpec {
  const char* name;
  KeySpec spec;
};
constexpr NamedSpec kSpecs[] = {
    {"rsa-2048", {KeySpec::Type::Rsa, 2048}},  {"rsa-3072", {KeySpec::Type::Rsa, 3072}},
    {"rsa-4096", {KeySpec::Type::Rsa, 4096}},  {"ecdsa-p256", {KeySpec::Type::Ec, 256}},
    {"ecdsa-p384", {KeySpec::Type::Ec, 384}},
};

const char* curve_name(int bits) { return bits == 384 ? "P-384" : "P-256"; }

}  // namespace

KeySpec KeySpec::parse(std::string_view name) {
  for (const auto& s : kSpecs)
    if (name == s.name) return s.spec;
  std::string accepted;
  for (const auto& n : names()) accepted += (accepted.empty() ? "" : ", ") + n;
  throw Error("unknown key algorithm '" + std::string(name.substr(0, 40)) + "' (accepted: " + accepted + ")");
}

const std::vector<std::string>& KeySpec::names() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> v;
    for (const auto& s : kSpecs) v.emplace_back(s.name);
    return v;
  }();
  return all;
}

std::string KeySpec::name() const {
  for (const auto& s : kSpecs)
    if (s.spec == *this) return s.name;
  return (type == Type::Rsa ? "rsa-" : "ecdsa-p") + std::to_string(bits);
}

PublicKey::PublicKey(PKeyPtr key) : key_(std::move(key)) {
  if (!key_) throw Error("null public key");
}

PublicKey PublicKey::from_der(ByteView der) {
  const unsigned char* p = der.data();
  PKeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key || p != der.data() + der.size()) throw OpenSslError("public key is not valid DER SubjectPublicKeyInfo");
  return PublicKey(std::move(key));
}

Bytes PublicKey::der() const {
  int len = check_positive(i2d_PUBKEY(key_.get(), nullptr), "encode public key");
  Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  check_positive(i2d_PUBKEY(key_.get(), &p), "encode public key");
  return out;
}

std::string PublicKey::pem() const { return to_pem("PUBLIC KEY", der()); }

KeySpec PublicKey::spec() const {
  int bits = EVP_PKEY_get_bits(key_.get());
  if (EVP_PKEY_is_a(key_.get(), "RSA")) {
    if (bits < 2048) throw Error("RSA keys under 2048 bits are not supported (got " + std::to_string(bits) + ")");
    return {KeySpec::Type::Rsa, bits};
  }
  if (EVP_PKEY_is_a(key_.get(), "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key_.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) == 1) {
      std::string_view g(group, len);
      if (g == "prime256v1" || g == "P-256") return {KeySpec::Type::Ec, 256};
      if (g == "secp384r1" || g == "P-384") return {KeySpec::Type::Ec, 384};
      throw Error("EC key on curve " + std::string(g) + " is not supported (use P-256 or P-384)");
    }
    throw Error("EC key has no named curve");
  }
  throw Error(std::string("key type ") + EVP_PKEY_get0_type_name(key_.get()) + " is not supported (use RSA or ECDSA)");
}

bool PublicKey::operator==(const PublicKey& other) const { return EVP_PKEY_eq(key_.get(), other.key_.get()) == 1; }

PrivateKey::PrivateKey(PKeyPtr key) : key_(std::move(key)) {
  if (!key_) throw Error("null private key");
}

PrivateKey PrivateKey::generate(const KeySpec& spec) {
  EVP_PKEY* raw = nullptr;
  if (spec.type == KeySpec::Type::Rsa) {
    if (spec.bits < 2048) throw Error("RSA keys under 2048 bits are not issued");
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(spec.bits));
  } else {
    if (spec.bits != 256 && spec.bits != 384) throw Error("ECDSA keys are issued on P-256 or P-384 only");
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve_name(spec.bits));
  }
  return PrivateKey(PKeyPtr(check_ptr(raw, "generate " + spec.name() + " key")));
}

PrivateKey PrivateKey::from_pem(std::string_view pem) {
  for (const auto& block : parse_pem(pem)) {
    if (block.label == "EC PARAMETERS") continue;
    if (block.label == "ENCRYPTED PRIVATE KEY")
      throw Error("the private key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)");
    const unsigned char* p = block.der.data();
    const long len = static_cast<long>(block.der.size());
    PKeyPtr key;
    if (block.label == "PRIVATE KEY") {
      key.reset(d2i_AutoPrivateKey(nullptr, &p, len));
    } else if (block.label == "RSA PRIVATE KEY") {
      key.reset(d2i_PrivateKey(EVP_PKEY_RSA, nullptr, &p, len));
    } else if (block.label == "EC PRIVATE KEY") {
      key.reset(d2i_PrivateKey(EVP_PKEY_EC, nullptr, &p, len));
    } else {
      throw Error("expected a private key PEM block, found '" + block.label + "'");
    }
    if (!key) {
      clear_openssl_errors();
      throw Error("the " + block.label + " block does not decode as a private key");
    }
    return PrivateKey(std::move(key));
  }
  throw Error("no private key PEM block found");
}

PrivateKey PrivateKey::from_pkcs8_der(ByteView der) {
  const unsigned char* p = der.data();
  PKeyPtr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
  if (!key) {
    clear_openssl_errors();
    throw Error("stored private key does not decode");
  }
  return PrivateKey(std::move(key));
}

Bytes PrivateKey::pkcs8_der() const {
  // i2d_PrivateKey writes the traditional form for some types; go through PKCS8_PRIV_KEY_INFO.
  std::unique_ptr<PKCS8_PRIV_KEY_INFO, Deleter<PKCS8_PRIV_KEY_INFO_free>> p8(
      check_ptr(EVP_PKEY2PKCS8(key_.get()), "convert key to PKCS#8"));
  int len = check_positive(i2d_PKCS8_PRIV_KEY_INFO(p8.get(), nullptr), "encode PKCS#8 key");
  Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  check_positive(i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &p), "encode PKCS#8 key");
  return out;
}

std::string PrivateKey::pkcs8_pem() const {
  Bytes der = pkcs8_der();
  std::string pem = to_pem("PRIVATE KEY", der);
  OPENSSL_cleanse(der.data(), der.size());
  return pem;
}

PublicKey PrivateKey::public_key() const {
  // Shares the key object instead of re-decoding its SubjectPublicKeyInfo: OpenSSL 3's decoder
  // costs more than generating an ECDSA key. PublicKey exposes only public operations.
  check(EVP_PKEY_up_ref(key_.get()), "reference key");
  return PublicKey(PKeyPtr(key_.get()));
}

Bytes PrivateKey::sign_sha256(ByteView data) const {
  MdCtxPtr ctx(check_ptr(EVP_MD_CTX_new(), "allocate digest context"));
  check(EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key_.get(), nullptr), "start signature");
  size_t len = 0;
  check(EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()), "size signature");
  Bytes sig(len);
  check(EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()), "sign");
  sig.resize(len);
  return sig;
}

bool verify_sha256(const PublicKey& key, ByteView data, ByteView signature) {
  MdCtxPtr ctx(check_ptr(EVP_MD_CTX_new(), "allocate digest context"));
  check(EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, &key.raw(), nullptr), "start verification");
  int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(), data.size());
  clear_openssl_errors();
  return rc == 1;
}

}  // namespace meshtrust::pki
