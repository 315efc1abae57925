#include "pki/crl.h"

#include "pki/asn1_time.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "pki/builder.h"
#include "pki/error.h"

namespace meshtrust::pki {

namespace {

struct ReasonName {
  RevocationReason reason;
  const char* rfc;    // the ASN.1 name in RFC 5280 §5.3.1
  const char* kebab;  // the same words, lowercase, joined with '-'
};
constexpr ReasonName kReasons[] = {
    {RevocationReason::Unspecified, "unspecified", "unspecified"},
    {RevocationReason::KeyCompromise, "keyCompromise", "key-compromise"},
    {RevocationReason::CaCompromise, "cACompromise", "ca-compromise"},
    {RevocationReason::AffiliationChanged, "affiliationChanged", "affiliation-changed"},
    {RevocationReason::Superseded, "superseded", "superseded"},
    {RevocationReason::CessationOfOperation, "cessationOfOperation", "cessation-of-operation"},
    {RevocationReason::CertificateHold, "certificateHold", "certificate-hold"},
    {RevocationReason::RemoveFromCrl, "removeFromCRL", "remove-from-crl"},
    {RevocationReason::PrivilegeWithdrawn, "privilegeWithdrawn", "privilege-withdrawn"},
    {RevocationReason::AaCompromise, "aACompromise", "aa-compromise"},
};

const ReasonName* find_reason(RevocationReason r) {
  for (const auto& n : kReasons)
    if (n.reason == r) return &n;
  return nullptr;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Time asn1_to_time(const ASN1_TIME* t, const char* what) {
  auto time = detail::from_asn1_time(t);
  if (!time) throw Error(std::string("CRL ") + what + " is not a valid time");
  return *time;
}

// The serial's magnitude without leading zero bytes; refuses what cannot be a certificate serial.
Bytes normalized_serial(const Serial& s) {
  auto first = std::find_if(s.bytes.begin(), s.bytes.end(), [](std::uint8_t b) { return b != 0; });
  Bytes out(first, s.bytes.end());
  if (out.empty()) throw Error("revoked serial number must be positive");
  if (out.size() > 20) throw Error("revoked serial number must be at most 20 bytes");
  return out;
}

Serial read_serial(const ASN1_INTEGER* ai) {
  BigNumPtr bn(ASN1_INTEGER_to_BN(ai, nullptr));
  if (!bn) {
    clear_openssl_errors();
    throw Error("CRL entry serial number does not decode");
  }
  if (BN_is_negative(bn.get())) throw Error("CRL entry serial number is negative");
  Serial s;
  s.bytes.resize(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), s.bytes.data());
  if (s.bytes.empty()) s.bytes.push_back(0);
  return s;
}

RevocationReason read_reason(const X509_REVOKED& rev) {
  int crit = 0;
  Asn1EnumeratedPtr e(static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(&rev, NID_crl_reason, &crit, nullptr)));
  if (!e) {
    if (crit == -1) return RevocationReason::Unspecified;  // absent (RFC 5280: SHOULD be absent for unspecified)
    clear_openssl_errors();
    throw Error("CRL entry reasonCode is repeated or malformed");
  }
  std::int64_t v = 0;
  if (ASN1_ENUMERATED_get_int64(&v, e.get()) != 1) {
    clear_openssl_errors();
    throw Error("CRL entry reasonCode is out of range");
  }
  for (const auto& n : kReasons)
    if (static_cast<std::int64_t>(n.reason) == v) return n.reason;
  throw Error("CRL entry reasonCode " + std::to_string(v) + " is not an RFC 5280 CRLReason");
}

Bytes crl_der(X509_CRL& crl) {
  int len = check_positive(i2d_X509_CRL(&crl, nullptr), "encode CRL");
  Bytes der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  check_positive(i2d_X509_CRL(&crl, &p), "encode CRL");
  return der;
}

void add_crl_ext(X509_CRL& crl, int nid, void* value, const char* what) {
  // add1_i2d returns 1 on success, 0 or -1 on failure.
  check(X509_CRL_add1_ext_i2d(&crl, nid, value, 0, X509V3_ADD_REPLACE), std::string("add CRL ") + what);
}

}  // namespace

std::string to_string(RevocationReason r) {
  if (const ReasonName* n = find_reason(r)) return n->rfc;
  return "unknown(" + std::to_string(static_cast<int>(r)) + ")";
}

std::optional<RevocationReason> parse_revocation_reason(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  const std::string l = lower(s);
  for (const auto& n : kReasons) {
    std::string snake = n.kebab;
    std::replace(snake.begin(), snake.end(), '-', '_');
    if (l == lower(n.rfc) || l == n.kebab || l == snake) return n.reason;
  }
  return std::nullopt;
}

const std::vector<std::string>& revocation_reason_names() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> v;
    for (const auto& n : kReasons) v.emplace_back(n.rfc);
    return v;
  }();
  return all;
}

Crl::Crl(X509CrlPtr crl, Bytes der) : crl_(std::move(crl)), der_(std::move(der)) {
  if (!crl_) throw Error("null CRL");
  const STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl_.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    const X509_REVOKED* rev = sk_X509_REVOKED_value(revoked, i);
    entries_.push_back({read_serial(X509_REVOKED_get0_serialNumber(rev)),
                        asn1_to_time(X509_REVOKED_get0_revocationDate(rev), "revocationDate"), read_reason(*rev)});
  }
}

Crl::Crl(const Crl& other) : crl_(nullptr), der_(other.der_), entries_(other.entries_) {
  check(X509_CRL_up_ref(other.crl_.get()), "reference CRL");
  crl_.reset(other.crl_.get());
}

Crl& Crl::operator=(const Crl& other) {
  if (this != &other) *this = Crl(other);
  return *this;
}

Crl Crl::from_der(ByteView der) {
  const unsigned char* p = der.data();
  X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (!crl || p != der.data() + der.size()) {
    clear_openssl_errors();
    throw Error("CRL is not valid DER X.509 CRL");
  }
  return Crl(std::move(crl), Bytes(der.begin(), der.end()));
}

Crl Crl::from_pem(std::string_view pem) {
  for (const auto& block : parse_pem(pem))
    if (block.label == "X509 CRL") return from_der(block.der);
  throw Error("no X509 CRL PEM block found");
}

std::uint64_t Crl::number() const {
  int crit = 0;
  Asn1IntegerPtr n(static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl_.get(), NID_crl_number, &crit, nullptr)));
  if (!n) {
    clear_openssl_errors();
    throw Error(crit == -1 ? "CRL has no cRLNumber extension" : "CRL cRLNumber extension is repeated or malformed");
  }
  std::uint64_t v = 0;
  if (ASN1_INTEGER_get_uint64(&v, n.get()) != 1) {
    clear_openssl_errors();
    throw Error("CRL cRLNumber is negative or does not fit in 64 bits");
  }
  return v;
}

Time Crl::this_update() const { return asn1_to_time(X509_CRL_get0_lastUpdate(crl_.get()), "thisUpdate"); }

Time Crl::next_update() const {
  const ASN1_TIME* t = X509_CRL_get0_nextUpdate(crl_.get());
  if (t == nullptr) throw Error("CRL has no nextUpdate");
  return asn1_to_time(t, "nextUpdate");
}

DistinguishedName Crl::issuer() const { return read_distinguished_name(*X509_CRL_get_issuer(crl_.get())); }

Bytes Crl::authority_key_id() const {
  int crit = 0;
  AuthorityKeyIdPtr aki(
      static_cast<AUTHORITY_KEYID*>(X509_CRL_get_ext_d2i(crl_.get(), NID_authority_key_identifier, &crit, nullptr)));
  if (!aki) {
    if (crit == -1) return {};
    clear_openssl_errors();
    throw Error("CRL authorityKeyIdentifier extension is repeated or malformed");
  }
  if (aki->keyid == nullptr) return {};
  const unsigned char* d = ASN1_STRING_get0_data(aki->keyid);
  return Bytes(d, d + ASN1_STRING_length(aki->keyid));
}

bool Crl::verify(const PublicKey& issuer_key) const {
  // X509_CRL_verify: 1 valid, 0 bad signature, -1 error (e.g. a key of the wrong type).
  int rc = X509_CRL_verify(crl_.get(), &issuer_key.raw());
  if (rc != 1) clear_openssl_errors();
  return rc == 1;
}

Crl sign_crl(const CrlTemplate& tmpl, const Certificate& issuer, const PrivateKey& issuer_key) {
  if (tmpl.next_update <= tmpl.this_update) throw Error("CRL nextUpdate must be after thisUpdate");
  if (!issuer.is_ca()) throw Error("CRL issuer is not a CA certificate");
  if (auto ku = issuer.key_usage(); ku && !(*ku & kCrlSign))
    throw Error("CRL issuer's keyUsage does not include cRLSign");
  if (!(issuer.public_key() == issuer_key.public_key())) throw Error("issuer key does not match issuer certificate");

  std::set<Bytes> seen;
  for (const auto& e : tmpl.entries) {
    Bytes serial = normalized_serial(e.serial);
    if (!seen.insert(serial).second) throw Error("serial " + to_hex(serial) + " is listed twice");
    if (find_reason(e.reason) == nullptr)
      throw Error("revocation reason " + std::to_string(static_cast<int>(e.reason)) + " is not an RFC 5280 CRLReason");
    if (e.reason == RevocationReason::RemoveFromCrl)
      throw Error("removeFromCRL may only appear in delta CRLs (RFC 5280 §5.3.1)");
  }

  X509CrlPtr crl(check_ptr(X509_CRL_new(), "allocate CRL"));
  check(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2), "set CRL version");
  check(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(&issuer.raw())), "set CRL issuer");
  Asn1TimePtr this_update = detail::to_asn1_time(tmpl.this_update), next_update = detail::to_asn1_time(tmpl.next_update);
  check(X509_CRL_set1_lastUpdate(crl.get(), this_update.get()), "set CRL thisUpdate");
  check(X509_CRL_set1_nextUpdate(crl.get(), next_update.get()), "set CRL nextUpdate");

  for (const auto& e : tmpl.entries) {
    X509RevokedPtr rev(check_ptr(X509_REVOKED_new(), "allocate CRL entry"));
    Bytes magnitude = normalized_serial(e.serial);
    BigNumPtr bn(check_ptr(BN_bin2bn(magnitude.data(), static_cast<int>(magnitude.size()), nullptr), "encode serial"));
    Asn1IntegerPtr serial(check_ptr(BN_to_ASN1_INTEGER(bn.get(), nullptr), "encode serial"));
    check(X509_REVOKED_set_serialNumber(rev.get(), serial.get()), "set CRL entry serial");  // copies
    Asn1TimePtr when = detail::to_asn1_time(e.revoked_at);
    check(X509_REVOKED_set_revocationDate(rev.get(), when.get()), "set CRL entry revocationDate");  // copies
    if (e.reason != RevocationReason::Unspecified) {
      Asn1EnumeratedPtr code(check_ptr(ASN1_ENUMERATED_new(), "allocate reasonCode"));
      check(ASN1_ENUMERATED_set(code.get(), static_cast<long>(e.reason)), "set reasonCode");
      check(X509_REVOKED_add1_ext_i2d(rev.get(), NID_crl_reason, code.get(), 0, X509V3_ADD_REPLACE),
            "add CRL entry reasonCode");
    }
    // add0 takes ownership only on success (returns 1); on failure `rev` still frees it.
    check(X509_CRL_add0_revoked(crl.get(), rev.get()), "add CRL entry");
    rev.release();
  }
  // No X509_CRL_sort: it reorders by serial, and entries are written in the order given.

  AuthorityKeyIdPtr aki(check_ptr(AUTHORITY_KEYID_new(), "allocate authorityKeyIdentifier"));
  Bytes key_id = authority_key_identifier(issuer);
  aki->keyid = check_ptr(ASN1_OCTET_STRING_new(), "allocate key id");
  check(ASN1_OCTET_STRING_set(aki->keyid, key_id.data(), static_cast<int>(key_id.size())), "set key id");
  add_crl_ext(*crl, NID_authority_key_identifier, aki.get(), "authorityKeyIdentifier");

  Asn1IntegerPtr number(check_ptr(ASN1_INTEGER_new(), "allocate cRLNumber"));
  check(ASN1_INTEGER_set_uint64(number.get(), tmpl.number), "set cRLNumber");
  add_crl_ext(*crl, NID_crl_number, number.get(), "cRLNumber");

  // X509_CRL_sign returns the signature size; 0 is failure.
  check_positive(X509_CRL_sign(crl.get(), &issuer_key.raw(), EVP_sha256()), "sign CRL");
  // Re-parse: OpenSSL fills a CRL's cached fields (issuer key id, entry reasons, flags) only when
  // decoding, and raw() users such as X509_STORE expect them.
  return Crl::from_der(crl_der(*crl));
}

}  // namespace meshtrust::pki
