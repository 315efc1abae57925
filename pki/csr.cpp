#include "pki/csr.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/error.h"

namespace meshtrust::pki {

CertificateRequest::CertificateRequest(X509ReqPtr req) : req_(std::move(req)) {
  int len = check_positive(i2d_X509_REQ(req_.get(), nullptr), "encode CSR");
  der_.resize(static_cast<size_t>(len));
  unsigned char* p = der_.data();
  check_positive(i2d_X509_REQ(req_.get(), &p), "encode CSR");
}

CertificateRequest CertificateRequest::from_pem(std::string_view pem) {
  std::vector<PemBlock> blocks;
  try {
    blocks = parse_pem(pem);
  } catch (const Error& e) {
    throw Error(std::string("CSR is not PEM: ") + e.what());
  }
  for (const auto& block : blocks) {
    if (block.label != "CERTIFICATE REQUEST" && block.label != "NEW CERTIFICATE REQUEST") continue;
    const unsigned char* p = block.der.data();
    X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(block.der.size())));
    if (!req || p != block.der.data() + block.der.size()) {
      clear_openssl_errors();
      throw Error("CSR does not decode as PKCS#10");
    }
    EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
    if (key == nullptr) {
      clear_openssl_errors();
      throw Error("CSR carries no usable public key");
    }
    if (X509_REQ_verify(req.get(), key) != 1) {
      clear_openssl_errors();
      throw Error("CSR signature does not verify with its own public key");
    }
    CertificateRequest csr(std::move(req));
    csr.public_key().spec();  // refuses algorithms we do not issue for, with a sentence
    return csr;
  }
  throw Error("no CERTIFICATE REQUEST PEM block found");
}

PublicKey CertificateRequest::public_key() const {
  EVP_PKEY* key = check_ptr(X509_REQ_get_pubkey(req_.get()), "read CSR public key");
  return PublicKey(PKeyPtr(key));
}

DistinguishedName CertificateRequest::subject() const {
  return read_distinguished_name(*X509_REQ_get_subject_name(req_.get()));
}

std::string make_csr_pem(const PrivateKey& key, const DistinguishedName& subject, const std::vector<std::string>& dns) {
  X509ReqPtr req(check_ptr(X509_REQ_new(), "allocate CSR"));
  X509NamePtr name(check_ptr(X509_NAME_new(), "allocate name"));
  for (const auto& [f, v] : subject.entries)
    check(X509_NAME_add_entry_by_txt(name.get(), f.c_str(), MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(v.data()), static_cast<int>(v.size()), -1, 0),
          "set CSR subject");
  check(X509_REQ_set_subject_name(req.get(), name.get()), "set CSR subject");
  check(X509_REQ_set_pubkey(req.get(), &key.raw()), "set CSR key");
  if (!dns.empty()) {
    X509ExtensionsPtr exts(check_ptr(sk_X509_EXTENSION_new_null(), "allocate extensions"));
    GeneralNamesPtr names(check_ptr(GENERAL_NAMES_new(), "allocate names"));
    for (const auto& d : dns) {
      std::unique_ptr<GENERAL_NAME, Deleter<GENERAL_NAME_free>> gn(check_ptr(GENERAL_NAME_new(), "allocate name"));
      ASN1_IA5STRING* s = check_ptr(ASN1_IA5STRING_new(), "allocate name");
      GENERAL_NAME_set0_value(gn.get(), GEN_DNS, s);
      check(ASN1_STRING_set(s, d.data(), static_cast<int>(d.size())), "set name");
      check_positive(sk_GENERAL_NAME_push(names.get(), gn.get()), "add name");
      gn.release();
    }
    std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>> ext(
        check_ptr(X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get()), "encode SAN"));
    check_positive(sk_X509_EXTENSION_push(exts.get(), ext.get()), "add extension");
    ext.release();
    check(X509_REQ_add_extensions(req.get(), exts.get()), "add CSR extensions");
  }
  check_positive(X509_REQ_sign(req.get(), &key.raw(), EVP_sha256()), "sign CSR");
  BioPtr bio(check_ptr(BIO_new(BIO_s_mem()), "allocate buffer"));
  check(PEM_write_bio_X509_REQ(bio.get(), req.get()), "write CSR");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace meshtrust::pki
