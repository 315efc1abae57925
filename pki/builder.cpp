#include "pki/builder.h"

#include <openssl/x509v3.h>

#include "pki/asn1_time.h"
#include "pki/crypto.h"
#include "pki/error.h"

namespace meshtrust::pki {

namespace {

X509NamePtr make_name(const DistinguishedName& dn) {
  X509NamePtr name(check_ptr(X509_NAME_new(), "allocate name"));
  for (const auto& [field, value] : dn.entries) {
    check(X509_NAME_add_entry_by_txt(name.get(), field.c_str(), MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(value.data()), static_cast<int>(value.size()),
                                     -1, 0),
          "set name field " + field);
  }
  return name;
}

void add_ext(X509& cert, int nid, void* value, bool critical, const char* what) {
  // add1_i2d returns 1 on success, 0 or -1 on failure.
  check(X509_add1_ext_i2d(&cert, nid, value, critical ? 1 : 0, X509V3_ADD_REPLACE), std::string("add ") + what);
}

}  // namespace

Bytes key_identifier(const PublicKey& key) {
  // RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING. Same as OpenSSL's
  // "hash", so our key ids equal what `openssl x509` writes for the same key.
  X509_PUBKEY* xpk = nullptr;
  check(X509_PUBKEY_set(&xpk, &key.raw()), "encode public key");
  std::unique_ptr<X509_PUBKEY, Deleter<X509_PUBKEY_free>> holder(xpk);
  const unsigned char* pk = nullptr;
  int pk_len = 0;
  check(X509_PUBKEY_get0_param(nullptr, &pk, &pk_len, nullptr, xpk), "read public key bits");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  check(EVP_Digest(pk, static_cast<size_t>(pk_len), md, &md_len, EVP_sha1(), nullptr), "hash public key");
  return Bytes(md, md + md_len);
}

Bytes authority_key_identifier(const Certificate& issuer) {
  Bytes id = issuer.subject_key_id();
  return id.empty() ? key_identifier(issuer.public_key()) : id;
}

namespace {

void add_basic_constraints(X509& cert, const BasicConstraints& bc) {
  BasicConstraintsPtr v(check_ptr(BASIC_CONSTRAINTS_new(), "allocate basicConstraints"));
  v->ca = bc.ca ? 0xFF : 0;
  if (bc.path_length) {
    v->pathlen = check_ptr(ASN1_INTEGER_new(), "allocate pathlen");
    check(ASN1_INTEGER_set(v->pathlen, *bc.path_length), "set pathlen");
  }
  add_ext(cert, NID_basic_constraints, v.get(), bc.critical, "basicConstraints");
}

void add_key_usage(X509& cert, const KeyUsage& ku) {
  Asn1BitStringPtr bits(check_ptr(ASN1_BIT_STRING_new(), "allocate keyUsage"));
  for (int bit = 0; bit < 9; ++bit)
    if (ku.bits & (1u << bit)) check(ASN1_BIT_STRING_set_bit(bits.get(), bit, 1), "set keyUsage bit");
  add_ext(cert, NID_key_usage, bits.get(), ku.critical, "keyUsage");
}

void add_eku(X509& cert, const std::vector<ExtendedKeyUsage>& ekus) {
  ExtKeyUsagePtr v(check_ptr(sk_ASN1_OBJECT_new_null(), "allocate extendedKeyUsage"));
  for (auto e : ekus) {
    ASN1_OBJECT* obj = OBJ_nid2obj(e == ExtendedKeyUsage::ServerAuth ? NID_server_auth : NID_client_auth);
    check_positive(sk_ASN1_OBJECT_push(v.get(), obj), "add extendedKeyUsage");
  }
  // OBJ_nid2obj returns static objects, so free only the stack, not its elements.
  add_ext(cert, NID_ext_key_usage, v.get(), false, "extendedKeyUsage");
}

void add_san(X509& cert, const std::vector<std::string>& dns, const std::vector<std::string>& uris,
             const std::vector<std::string>& ips) {
  GeneralNamesPtr names(check_ptr(GENERAL_NAMES_new(), "allocate subjectAltName"));
  auto push = [&](int type, const std::string& value) {
    std::unique_ptr<GENERAL_NAME, Deleter<GENERAL_NAME_free>> gn(check_ptr(GENERAL_NAME_new(), "allocate name"));
    ASN1_IA5STRING* s = check_ptr(ASN1_IA5STRING_new(), "allocate name");
    GENERAL_NAME_set0_value(gn.get(), type, s);
    check(ASN1_STRING_set(s, value.data(), static_cast<int>(value.size())), "set name");
    check_positive(sk_GENERAL_NAME_push(names.get(), gn.get()), "add name");
    gn.release();
  };
  for (const auto& d : dns) push(GEN_DNS, d);
  for (const auto& u : uris) push(GEN_URI, u);
  for (const auto& ip : ips) {
    // a2i_IPADDRESS parses a literal address only (no name resolution, no config language).
    Asn1OctetStringPtr addr(a2i_IPADDRESS(ip.c_str()));
    if (!addr) {
      clear_openssl_errors();
      throw Error("'" + ip + "' is not an IP address");
    }
    std::unique_ptr<GENERAL_NAME, Deleter<GENERAL_NAME_free>> gn(check_ptr(GENERAL_NAME_new(), "allocate name"));
    GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, addr.release());
    check_positive(sk_GENERAL_NAME_push(names.get(), gn.get()), "add name");
    gn.release();
  }
  add_ext(cert, NID_subject_alt_name, names.get(), false, "subjectAltName");
}

void add_ski(X509& cert, const Bytes& id) {
  Asn1OctetStringPtr v(check_ptr(ASN1_OCTET_STRING_new(), "allocate subjectKeyIdentifier"));
  check(ASN1_OCTET_STRING_set(v.get(), id.data(), static_cast<int>(id.size())), "set subjectKeyIdentifier");
  add_ext(cert, NID_subject_key_identifier, v.get(), false, "subjectKeyIdentifier");
}

void add_aki(X509& cert, const Bytes& issuer_key_id) {
  AuthorityKeyIdPtr v(check_ptr(AUTHORITY_KEYID_new(), "allocate authorityKeyIdentifier"));
  v->keyid = check_ptr(ASN1_OCTET_STRING_new(), "allocate key id");
  check(ASN1_OCTET_STRING_set(v->keyid, issuer_key_id.data(), static_cast<int>(issuer_key_id.size())), "set key id");
  add_ext(cert, NID_authority_key_identifier, v.get(), false, "authorityKeyIdentifier");
}

}  // namespace

Certificate sign_certificate(const CertificateTemplate& tmpl, const PublicKey& subject_key,
                             const std::optional<Certificate>& issuer, const PrivateKey& issuer_key) {
  if (tmpl.not_after <= tmpl.not_before) throw Error("certificate validity ends before it begins");
  // Serial holds an unsigned magnitude; RFC 5280 allows at most 20 octets once DER-encoded.
  if (tmpl.serial.bytes.empty() || tmpl.serial.bytes.size() > 19) throw Error("serial number must be 1 to 19 bytes");
  if (!issuer && !(subject_key == issuer_key.public_key()))
    throw Error("a self-signed certificate must be signed with its own key");
  if (issuer && !issuer->public_key().operator==(issuer_key.public_key()))
    throw Error("issuer key does not match issuer certificate");

  X509Ptr cert(check_ptr(X509_new(), "allocate certificate"));
  check(X509_set_version(cert.get(), X509_VERSION_3), "set version");
  BigNumPtr bn(check_ptr(BN_bin2bn(tmpl.serial.bytes.data(), static_cast<int>(tmpl.serial.bytes.size()), nullptr),
                         "encode serial"));
  if (BN_is_zero(bn.get())) throw Error("serial number must be positive");
  Asn1IntegerPtr serial(check_ptr(BN_to_ASN1_INTEGER(bn.get(), nullptr), "encode serial"));
  check(X509_set_serialNumber(cert.get(), serial.get()), "set serial");

  X509NamePtr subject = make_name(tmpl.subject);
  check(X509_set_subject_name(cert.get(), subject.get()), "set subject");
  if (issuer)
    check(X509_set_issuer_name(cert.get(), X509_get_subject_name(&issuer->raw())), "set issuer");
  else
    check(X509_set_issuer_name(cert.get(), subject.get()), "set issuer");

  Asn1TimePtr nb = detail::to_asn1_time(tmpl.not_before), na = detail::to_asn1_time(tmpl.not_after);
  check(X509_set1_notBefore(cert.get(), nb.get()), "set notBefore");
  check(X509_set1_notAfter(cert.get(), na.get()), "set notAfter");
  check(X509_set_pubkey(cert.get(), &subject_key.raw()), "set public key");

  const Extensions& ext = tmpl.extensions;
  if (ext.basic_constraints) add_basic_constraints(*cert, *ext.basic_constraints);
  if (ext.key_usage) add_key_usage(*cert, *ext.key_usage);
  if (!ext.extended_key_usage.empty()) add_eku(*cert, ext.extended_key_usage);
  if (!ext.dns_names.empty() || !ext.uris.empty() || !ext.ip_addresses.empty())
    add_san(*cert, ext.dns_names, ext.uris, ext.ip_addresses);
  if (ext.subject_key_id) add_ski(*cert, key_identifier(subject_key));
  if (ext.authority_key_id && issuer) {
    add_aki(*cert, authority_key_identifier(*issuer));
  }

  // X509_sign returns the signature size; 0 is failure.
  check_positive(X509_sign(cert.get(), &issuer_key.raw(), EVP_sha256()), "sign certificate");
  return Certificate(std::move(cert));
}

}  // namespace meshtrust::pki
