#include "pki/certificate.h"

#include <openssl/rand.h>

#include "pki/asn1_time.h"
#include "pki/crypto.h"
#include "pki/error.h"

namespace meshtrust::pki {

namespace {

Time asn1_to_time(const ASN1_TIME* t) {
  auto time = detail::from_asn1_time(t);
  if (!time) throw Error("the certificate holds an invalid time");
  return *time;
}

}  // namespace

DistinguishedName read_distinguished_name(const X509_NAME& x) {
  const X509_NAME* name = &x;
  DistinguishedName dn;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    const char* sn = nid == NID_undef ? "?" : OBJ_nid2sn(nid);
    const ASN1_STRING* v = X509_NAME_ENTRY_get_data(e);
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, v);
    std::string value = len >= 0 ? std::string(reinterpret_cast<char*>(utf8), static_cast<size_t>(len)) : "";
    OPENSSL_free(utf8);
    dn.entries.emplace_back(sn, std::move(value));
  }
  return dn;
}

namespace {

std::vector<std::string> general_names(const X509& cert, int type) {
  std::vector<std::string> out;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(&cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != type) continue;
    const ASN1_IA5STRING* s = type == GEN_DNS ? gn->d.dNSName : gn->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
  }
  return out;
}

}  // namespace

std::string DistinguishedName::to_string() const {
  std::string out;
  for (const auto& [k, v] : entries) {
    if (!out.empty()) out += ", ";
    out += k + "=" + v;
  }
  return out;
}

Serial Serial::random128() {
  Serial s;
  s.bytes.resize(16);
  check(RAND_bytes(s.bytes.data(), 16), "generate serial number");
  s.bytes[0] &= 0x7f;  // positive
  if (s.bytes[0] == 0) s.bytes[0] = 0x01;  // keep a fixed length of 16 bytes; no leading zero
  return s;
}

Serial Serial::from_hex(std::string_view hex) {
  if (hex.empty() || hex.size() > 40) throw Error("serial number must be 1 to 40 hex digits");
  std::string padded = hex.size() % 2 ? "0" + std::string(hex) : std::string(hex);
  Serial s{pki::from_hex(padded)};
  while (s.bytes.size() > 1 && s.bytes[0] == 0) s.bytes.erase(s.bytes.begin());
  return s;
}

std::string Serial::hex() const { return to_hex(bytes); }

Certificate::Certificate(X509Ptr cert) : cert_(std::move(cert)) {
  if (!cert_) throw Error("null certificate");
  int len = check_positive(i2d_X509(cert_.get(), nullptr), "encode certificate");
  der_.resize(static_cast<size_t>(len));
  unsigned char* p = der_.data();
  check_positive(i2d_X509(cert_.get(), &p), "encode certificate");
}

Certificate::Certificate(const Certificate& other) : cert_(nullptr), der_(other.der_) {
  X509_up_ref(other.cert_.get());
  cert_.reset(other.cert_.get());
}

Certificate& Certificate::operator=(const Certificate& other) {
  if (this != &other) *this = Certificate(other);
  return *this;
}

Certificate Certificate::from_der(ByteView der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != der.data() + der.size()) {
    clear_openssl_errors();
    throw Error("certificate is not valid DER X.509");
  }
  return Certificate(std::move(cert));
}

Certificate Certificate::from_pem(std::string_view pem) {
  for (const auto& block : parse_pem(pem)) {
    if (block.label == "CERTIFICATE") return from_der(block.der);
    if (block.label == "TRUSTED CERTIFICATE") continue;
  }
  throw Error("no CERTIFICATE PEM block found");
}

std::vector<Certificate> Certificate::all_from_pem(std::string_view pem) {
  std::vector<Certificate> out;
  for (const auto& block : parse_pem(pem))
    if (block.label == "CERTIFICATE") out.push_back(from_der(block.der));
  if (out.empty()) throw Error("no CERTIFICATE PEM block found");
  return out;
}

Serial Certificate::serial() const {
  const ASN1_INTEGER* ai = X509_get0_serialNumber(cert_.get());
  BigNumPtr bn(check_ptr(ASN1_INTEGER_to_BN(ai, nullptr), "read serial number"));
  Serial s;
  s.bytes.resize(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), s.bytes.data());
  if (s.bytes.empty()) s.bytes.push_back(0);
  return s;
}

DistinguishedName Certificate::subject() const { return read_distinguished_name(*X509_get_subject_name(cert_.get())); }
DistinguishedName Certificate::issuer() const { return read_distinguished_name(*X509_get_issuer_name(cert_.get())); }
Time Certificate::not_before() const { return asn1_to_time(X509_get0_notBefore(cert_.get())); }
Time Certificate::not_after() const { return asn1_to_time(X509_get0_notAfter(cert_.get())); }

bool Certificate::is_ca() const { return X509_check_ca(cert_.get()) == 1 && (X509_get_extension_flags(cert_.get()) & EXFLAG_CA); }

std::optional<long> Certificate::path_length() const {
  long len = X509_get_pathlen(cert_.get());
  if (len < 0) return std::nullopt;
  return len;
}

std::optional<unsigned> Certificate::key_usage() const {
  int crit = 0;
  Asn1BitStringPtr bits(static_cast<ASN1_BIT_STRING*>(X509_get_ext_d2i(cert_.get(), NID_key_usage, &crit, nullptr)));
  if (!bits) {
    if (crit == -1) return std::nullopt;  // absent (-2: repeated; 0/1: present but undecodable)
    clear_openssl_errors();
    throw Error("certificate keyUsage extension is repeated or malformed");
  }
  unsigned out = 0;
  for (int bit = 0; bit < 9; ++bit)
    if (ASN1_BIT_STRING_get_bit(bits.get(), bit)) out |= 1u << bit;
  return out;
}

PublicKey Certificate::public_key() const {
  EVP_PKEY* key = check_ptr(X509_get_pubkey(cert_.get()), "read certificate public key");
  return PublicKey(PKeyPtr(key));
}

std::string Certificate::sha256_fingerprint() const { return to_hex(sha256(der_)); }

std::vector<std::string> Certificate::dns_names() const { return general_names(*cert_, GEN_DNS); }
std::vector<std::string> Certificate::uris() const { return general_names(*cert_, GEN_URI); }

Bytes Certificate::subject_key_id() const {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert_.get());
  if (!ski) return {};
  const unsigned char* d = ASN1_STRING_get0_data(ski);
  return Bytes(d, d + ASN1_STRING_length(ski));
}

bool Certificate::is_self_signed() const { return X509_self_signed(cert_.get(), 0) == 1; }

}  // namespace meshtrust::pki
