// pki/csr.h: CSRs made here and by the openssl CLI parse and self-verify; altered, truncated and
// foreign-algorithm CSRs are refused with a sentence saying why.
#include <doctest/doctest.h>

#include <openssl/x509.h>

#include <string>
#include <vector>

#include "pki/csr.h"
#include "pki/error.h"
#include "support/temp_dir.h"
#include "unit/pki/pki_test_support.h"

using namespace meshtrust;
using testing::dn;

namespace {

std::string error_of(const std::string& pem) {
  try {
    pki::CertificateRequest::from_pem(pem);
  } catch (const pki::Error& e) {
    return e.what();
  }
  FAIL("the CSR was accepted");
  return "";
}

// The dNSName SANs a CSR requests, read with raw OpenSSL.
std::vector<std::string> requested_dns(const pki::Bytes& der) {
  const unsigned char* p = der.data();
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()));
  REQUIRE(req != nullptr);
  std::vector<std::string> out;
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
    auto* names = static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext));
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
      if (gn->type == GEN_DNS)
        out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                         static_cast<size_t>(ASN1_STRING_length(gn->d.dNSName)));
    }
    GENERAL_NAMES_free(names);
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
  return out;
}

const pki::DistinguishedName kSubject = dn({{"O", "Istio"}, {"CN", "Intermediate CA"}, {"L", "cluster-a"}});

}  // namespace

TEST_CASE("pki.csr: make_csr_pem round trips through CertificateRequest::from_pem") {
  for (const char* alg : {"ecdsa-p256", "ecdsa-p384"}) {
    CAPTURE(alg);
    auto key = pki::PrivateKey::generate(pki::KeySpec::parse(alg));
    std::string pem = pki::make_csr_pem(key, kSubject, {"istiod.istio-system.svc", "istiod.cluster-a"});
    auto csr = pki::CertificateRequest::from_pem(pem);
    CHECK(csr.public_key() == key.public_key());
    CHECK(key.matches(csr.public_key()));
    CHECK(csr.subject() == kSubject);
    CHECK(requested_dns(csr.der()) == std::vector<std::string>{"istiod.istio-system.svc", "istiod.cluster-a"});
    auto blocks = pki::parse_pem(pem);
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0].label == "CERTIFICATE REQUEST");
    CHECK(blocks[0].der == csr.der());
  }
  // Without SANs, and with an RSA key.
  const auto& rsa = testing::shared_rsa2048();
  auto csr = pki::CertificateRequest::from_pem(pki::make_csr_pem(rsa, kSubject));
  CHECK(csr.public_key() == rsa.public_key());
  CHECK(requested_dns(csr.der()).empty());
}

TEST_CASE("pki.csr: the openssl CLI verifies what make_csr_pem writes") {
  testing::TempDir dir;
  auto key = pki::PrivateKey::generate(pki::KeySpec::parse("ecdsa-p256"));
  testing::write_file(dir.file("req.pem"), pki::make_csr_pem(key, kSubject, {"istiod.istio-system.svc"}));
  auto r = testing::openssl_cli({"req", "-in", dir.file("req.pem"), "-noout", "-verify", "-text"});
  CHECK(r.status == 0);
  CHECK((r.out + r.err).find("verify OK") != std::string::npos);
  CHECK(r.out.find("DNS:istiod.istio-system.svc") != std::string::npos);
  CHECK(r.out.find("O = Istio, CN = Intermediate CA, L = cluster-a") != std::string::npos);
}

TEST_CASE("pki.csr: an altered CSR fails its signature check") {
  auto key = pki::PrivateKey::generate(pki::KeySpec::parse("ecdsa-p256"));
  std::string pem = pki::make_csr_pem(key, kSubject);
  pki::Bytes der = pki::parse_pem(pem)[0].der;

  SUBCASE("a flipped byte in the signature") {
    pki::Bytes bad = der;
    bad[bad.size() - 2] ^= 0x01;  // inside the last INTEGER of the ECDSA signature
    std::string msg = error_of(pki::to_pem("CERTIFICATE REQUEST", bad));
    CHECK(msg.find("signature") != std::string::npos);
  }
  SUBCASE("a changed subject") {
    std::string s(pki::as_chars(der));
    auto at = s.find("cluster-a");
    REQUIRE(at != std::string::npos);
    pki::Bytes bad = der;
    bad[at + 8] = 'b';  // cluster-b: same length, still valid DER
    std::string msg = error_of(pki::to_pem("CERTIFICATE REQUEST", bad));
    CHECK(msg.find("signature") != std::string::npos);
  }
}

TEST_CASE("pki.csr: non-PEM, truncated DER and wrong labels are refused") {
  auto key = pki::PrivateKey::generate(pki::KeySpec::parse("ecdsa-p256"));
  pki::Bytes der = pki::parse_pem(pki::make_csr_pem(key, kSubject))[0].der;

  CHECK(error_of("this is not a CSR").find("PEM") != std::string::npos);
  CHECK_THROWS_AS(pki::CertificateRequest::from_pem(""), pki::Error);
  CHECK_THROWS_AS(pki::CertificateRequest::from_pem(std::string(pki::as_chars(der))), pki::Error);  // raw DER

  for (size_t keep : {der.size() - 1, der.size() / 2, size_t{10}, size_t{1}}) {
    CAPTURE(keep);
    pki::Bytes cut(der.begin(), der.begin() + static_cast<long>(keep));
    CHECK_THROWS_AS(pki::CertificateRequest::from_pem(pki::to_pem("CERTIFICATE REQUEST", cut)), pki::Error);
  }
  pki::Bytes trailing = der;
  trailing.push_back(0x00);
  CHECK_THROWS_AS(pki::CertificateRequest::from_pem(pki::to_pem("CERTIFICATE REQUEST", trailing)), pki::Error);

  // The right DER under another label is not a CSR.
  std::string msg = error_of(pki::to_pem("CERTIFICATE", der));
  CHECK(msg.find("CERTIFICATE REQUEST") != std::string::npos);
  // The old label some tools still write is accepted.
  auto old = pki::CertificateRequest::from_pem(pki::to_pem("NEW CERTIFICATE REQUEST", der));
  CHECK(old.public_key() == key.public_key());
}

TEST_CASE("pki.csr: a CSR made by the openssl CLI, with extra SANs, parses") {
  testing::TempDir dir;
  testing::openssl_ok({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout",
                       dir.file("k.pem"), "-subj", "/O=Istio/CN=Intermediate CA/L=c9", "-addext",
                       "subjectAltName=DNS:istiod.istio-system.svc,DNS:extra.example,URI:spiffe://td/ns/x/sa/y,IP:10.1.2.3",
                       "-out", dir.file("csr.pem")});
  auto csr = pki::CertificateRequest::from_pem(testing::read_file(dir.file("csr.pem")));
  auto key = pki::PrivateKey::from_pem(testing::read_file(dir.file("k.pem")));
  CHECK(csr.public_key() == key.public_key());
  CHECK(csr.public_key().spec().name() == "ecdsa-p384");
  CHECK(csr.subject() == dn({{"O", "Istio"}, {"CN", "Intermediate CA"}, {"L", "c9"}}));
  CHECK(requested_dns(csr.der()) == std::vector<std::string>{"istiod.istio-system.svc", "extra.example"});
}

TEST_CASE("pki.csr: CSRs for keys meshtrust does not issue for are refused") {
  testing::TempDir dir;
  auto csr_with = [&](const std::vector<std::string>& newkey) {
    std::vector<std::string> args{"req", "-new"};
    args.insert(args.end(), newkey.begin(), newkey.end());
    args.insert(args.end(), {"-nodes", "-keyout", dir.file("k.pem"), "-subj", "/CN=x", "-out", dir.file("csr.pem")});
    testing::openssl_ok(args);
    return testing::read_file(dir.file("csr.pem"));
  };
  SUBCASE("Ed25519") { CHECK_THROWS_AS(pki::CertificateRequest::from_pem(csr_with({"-newkey", "ed25519"})), pki::Error); }
  SUBCASE("ECDSA P-521") {
    CHECK_THROWS_AS(
        pki::CertificateRequest::from_pem(csr_with({"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"})),
        pki::Error);
  }
  SUBCASE("RSA 1024") {
    CHECK_THROWS_AS(pki::CertificateRequest::from_pem(csr_with({"-newkey", "rsa:1024"})), pki::Error);
  }
}
