// pki/certificate.h and pki/builder.h: what sign_certificate writes is what the accessors (and raw
// OpenSSL, and the openssl CLI) read back; canonical PEM; serial numbers; builder refusals.
#include <doctest/doctest.h>

#include <openssl/x509v3.h>

#include <cctype>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pki/builder.h"
#include "pki/certificate.h"
#include "pki/error.h"
#include "pki/verify.h"
#include "support/temp_dir.h"
#include "unit/pki/pki_test_support.h"

using namespace meshtrust;
using testing::dn;
using testing::epoch;
using testing::utc;

namespace {

std::string hex_of(const ASN1_OCTET_STRING* s) {
  if (s == nullptr) return "";
  return pki::to_hex(pki::ByteView(ASN1_STRING_get0_data(s), static_cast<size_t>(ASN1_STRING_length(s))));
}

// The NIDs of a certificate's extensions, in the order they are encoded.
std::vector<int> extension_nids(const pki::Certificate& c) {
  std::vector<int> out;
  for (int i = 0; i < X509_get_ext_count(&c.raw()); ++i)
    out.push_back(OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(&c.raw(), i))));
  return out;
}

bool is_critical(const pki::Certificate& c, int nid) {
  int i = X509_get_ext_by_NID(&c.raw(), nid, -1);
  REQUIRE(i >= 0);
  return X509_EXTENSION_get_critical(X509_get_ext(&c.raw(), i)) == 1;
}

pki::CertificateTemplate tmpl(const std::string& cn, pki::Time nb, pki::Time na, pki::Extensions ext) {
  return {pki::Serial::random128(), dn({{"O", "Istio"}, {"CN", cn}}), nb, na, std::move(ext)};
}

pki::PrivateKey ec256() { return pki::PrivateKey::generate(pki::KeySpec::parse("ecdsa-p256")); }

// `openssl verify -x509_strict` at the tests' fixed time.
testing::CliResult cli_verify(const testing::TempDir& dir, const pki::Certificate& root,
                              const std::vector<pki::Certificate>& untrusted, const pki::Certificate& leaf,
                              const std::vector<std::string>& extra = {}) {
  testing::write_file(dir.file("root.pem"), root.pem());
  std::string chain;
  for (const auto& c : untrusted) chain += c.pem();
  testing::write_file(dir.file("untrusted.pem"), chain);
  testing::write_file(dir.file("leaf.pem"), leaf.pem());
  std::vector<std::string> args{"verify", "-x509_strict", "-attime", std::to_string(epoch(testing::test_now())),
                                "-CAfile", dir.file("root.pem")};
  if (!untrusted.empty()) args.insert(args.end(), {"-untrusted", dir.file("untrusted.pem")});
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(dir.file("leaf.pem"));
  return testing::openssl_cli(args);
}

}  // namespace

TEST_CASE("pki.certificate: a root and an intermediate read back every field") {
  testing::TestChain ch;
  const auto& root = ch.root;
  const auto& inter = ch.inter;

  SUBCASE("serial") {
    for (const pki::Certificate* c : std::initializer_list<const pki::Certificate*>{&root, &inter, &ch.leaf}) {
      auto s = c->serial();
      CHECK(!s.bytes.empty());
      CHECK(s.bytes.size() <= 16);
      CHECK((s.bytes[0] & 0x80) == 0);  // positive
      CHECK(s.bytes[0] != 0);           // no leading zero
      CHECK(s.hex().size() == 2 * s.bytes.size());
      // The DER INTEGER OpenSSL reads is positive too.
      BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(&c->raw()), nullptr);
      REQUIRE(bn != nullptr);
      CHECK_FALSE(BN_is_negative(bn));
      CHECK_FALSE(BN_is_zero(bn));
      BN_free(bn);
    }
    CHECK(root.serial() != inter.serial());
  }
  SUBCASE("names, in order") {
    using E = std::vector<std::pair<std::string, std::string>>;
    CHECK(root.subject().entries == E{{"O", "Istio"}, {"CN", "Root CA"}});
    CHECK(root.issuer() == root.subject());
    CHECK(inter.subject().entries == E{{"O", "Istio"}, {"CN", "Intermediate CA"}, {"L", "c1"}});
    CHECK(inter.issuer() == root.subject());
    CHECK(ch.leaf.issuer() == inter.subject());
    CHECK(root.subject().to_string() == "O=Istio, CN=Root CA");
    CHECK(inter.subject().to_string() == "O=Istio, CN=Intermediate CA, L=c1");
  }
  SUBCASE("validity, to the second") {
    CHECK(epoch(root.not_before()) == epoch(utc(2026, 1, 1)));
    CHECK(epoch(root.not_after()) == epoch(utc(2036, 1, 1)));
    CHECK(epoch(inter.not_before()) == epoch(utc(2026, 5, 1)));
    CHECK(epoch(inter.not_after()) == epoch(utc(2027, 5, 1)));
  }
  SUBCASE("basic constraints") {
    CHECK(root.is_ca());
    CHECK(inter.is_ca());
    CHECK_FALSE(ch.leaf.is_ca());
    CHECK_FALSE(root.path_length().has_value());
    REQUIRE(inter.path_length().has_value());
    CHECK(*inter.path_length() == 0);
    CHECK_FALSE(ch.leaf.path_length().has_value());
    CHECK(is_critical(root, NID_basic_constraints));
    CHECK(is_critical(inter, NID_basic_constraints));
  }
  SUBCASE("key usage and extended key usage") {
    CHECK(X509_get_key_usage(&root.raw()) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE));
    CHECK(X509_get_key_usage(&inter.raw()) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE));
    CHECK(X509_get_key_usage(&ch.leaf.raw()) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
    CHECK(is_critical(root, NID_key_usage));
    CHECK(X509_get_ext_by_NID(&root.raw(), NID_ext_key_usage, -1) < 0);  // CAs: no EKU
    CHECK(X509_get_ext_by_NID(&inter.raw(), NID_ext_key_usage, -1) < 0);
    CHECK(X509_get_extended_key_usage(&ch.leaf.raw()) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
    CHECK_FALSE(is_critical(ch.leaf, NID_ext_key_usage));
  }
  SUBCASE("subject alternative names") {
    CHECK(root.dns_names().empty());
    CHECK(root.uris().empty());
    CHECK(inter.dns_names() == std::vector<std::string>{"istiod.istio-system.svc"});
    CHECK(inter.uris() == std::vector<std::string>{"spiffe://cluster.local/ns/istio-system/sa/istiod-c1"});
    CHECK(ch.leaf.dns_names().empty());
    CHECK(ch.leaf.uris() == std::vector<std::string>{"spiffe://cluster.local/ns/default/sa/web"});
  }
  SUBCASE("key identifiers") {
    auto root_ski = root.subject_key_id();
    auto inter_ski = inter.subject_key_id();
    CHECK(root_ski.size() == 20);  // SHA-1 of the key, RFC 5280 method 1
    CHECK(inter_ski.size() == 20);
    CHECK(root_ski != inter_ski);
    // A self-signed root carries no AKI; every issued certificate's AKI is its issuer's SKI.
    CHECK(X509_get0_authority_key_id(&root.raw()) == nullptr);
    CHECK(hex_of(X509_get0_authority_key_id(&inter.raw())) == pki::to_hex(root_ski));
    CHECK(hex_of(X509_get0_authority_key_id(&ch.leaf.raw())) == pki::to_hex(inter_ski));
    // OpenSSL's own computation of the key id (what `openssl x509` would write) agrees.
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    REQUIRE(X509_pubkey_digest(&inter.raw(), EVP_sha1(), md, &md_len) == 1);
    CHECK(pki::to_hex(pki::ByteView(md, md_len)) == pki::to_hex(inter_ski));
  }
  SUBCASE("extension order and the rest") {
    CHECK(extension_nids(root) == std::vector<int>{NID_basic_constraints, NID_key_usage, NID_subject_key_identifier});
    CHECK(extension_nids(inter) == std::vector<int>{NID_basic_constraints, NID_key_usage, NID_subject_alt_name,
                                                    NID_subject_key_identifier, NID_authority_key_identifier});
    CHECK(X509_get_version(&root.raw()) == X509_VERSION_3);
    CHECK(X509_get_signature_nid(&root.raw()) == NID_ecdsa_with_SHA256);
    CHECK(root.public_key() == ch.root_key.public_key());
    CHECK(inter.public_key() == ch.inter_key.public_key());
    CHECK(root.is_self_signed());
    CHECK_FALSE(inter.is_self_signed());
    CHECK(root.sha256_fingerprint().size() == 64);
  }
}

TEST_CASE("pki.certificate: times before 2050 are UTCTime, later ones GeneralizedTime, both exact") {
  auto key = ec256();
  auto nb = utc(2049, 12, 31, 23, 59, 59), na = utc(2055, 3, 4, 5, 6, 7);
  auto c = pki::sign_certificate(tmpl("t", nb, na, testing::root_extensions()), key.public_key(), std::nullopt, key);
  CHECK(epoch(c.not_before()) == epoch(nb));
  CHECK(epoch(c.not_after()) == epoch(na));
  CHECK(ASN1_STRING_type(X509_get0_notBefore(&c.raw())) == V_ASN1_UTCTIME);
  CHECK(ASN1_STRING_type(X509_get0_notAfter(&c.raw())) == V_ASN1_GENERALIZEDTIME);
}

TEST_CASE("pki.certificate: an RSA root signs an ECDSA intermediate") {
  const auto& rsa = testing::shared_rsa2048();
  auto root = pki::sign_certificate(tmpl("Root CA", utc(2026, 1, 1), utc(2036, 1, 1), testing::root_extensions()),
                                    rsa.public_key(), std::nullopt, rsa);
  auto ik = ec256();
  auto inter = pki::sign_certificate(
      tmpl("Intermediate CA", utc(2026, 5, 1), utc(2027, 5, 1), testing::intermediate_extensions()), ik.public_key(),
      root, rsa);
  CHECK(X509_get_signature_nid(&root.raw()) == NID_sha256WithRSAEncryption);
  CHECK(X509_get_signature_nid(&inter.raw()) == NID_sha256WithRSAEncryption);
  CHECK(root.public_key().spec().name() == "rsa-2048");
  CHECK(hex_of(X509_get0_authority_key_id(&inter.raw())) == pki::to_hex(root.subject_key_id()));
  CHECK(pki::verify_chain(inter, {}, {root}, testing::test_now()).ok);
}

TEST_CASE("pki.certificate: IP address SANs are encoded as addresses; bad ones are refused") {
  auto key = ec256();
  auto ext = testing::leaf_extensions();
  ext.ip_addresses = {"10.0.0.1", "::1"};
  auto c = pki::sign_certificate(tmpl("ip", utc(2026, 1, 1), utc(2026, 2, 1), ext), key.public_key(), std::nullopt, key);
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(&c.raw(), NID_subject_alt_name, nullptr, nullptr));
  REQUIRE(names != nullptr);
  std::vector<int> ip_lengths;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_IPADD) ip_lengths.push_back(ASN1_STRING_length(gn->d.iPAddress));
  }
  GENERAL_NAMES_free(names);
  CHECK(ip_lengths == std::vector<int>{4, 16});
  CHECK(c.uris() == ext.uris);  // other SANs unaffected

  for (const char* bad : {"10.0.0.256", "example.com", "", "1.2.3.4/24"}) {
    CAPTURE(bad);
    auto e = testing::leaf_extensions();
    e.ip_addresses = {bad};
    CHECK_THROWS_AS(pki::sign_certificate(tmpl("ip", utc(2026, 1, 1), utc(2026, 2, 1), e), key.public_key(),
                                          std::nullopt, key),
                    pki::Error);
  }
}

TEST_CASE("pki.certificate: verify_chain accepts the good chain and refuses broken ones") {
  testing::TestChain ch;
  auto now = testing::test_now();

  CHECK(pki::verify_chain(ch.leaf, {ch.inter}, {ch.root}, now).ok);
  CHECK(pki::verify_chain(ch.inter, {}, {ch.root}, now).ok);
  CHECK(pki::verify_chain(ch.root, {}, {ch.root}, now).ok);
  CHECK(pki::verify_chain(ch.leaf, {ch.inter}, {ch.root}, utc(2026, 6, 1, 23, 59, 59)).ok);  // last second

  SUBCASE("expired at a later time") {
    auto r = pki::verify_chain(ch.leaf, {ch.inter}, {ch.root}, utc(2026, 6, 2, 0, 0, 1));
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("expired") != std::string::npos);
    CHECK(r.depth == 0);
    auto r2 = pki::verify_chain(ch.inter, {}, {ch.root}, utc(2027, 5, 2));
    CHECK_FALSE(r2.ok);
    CHECK(r2.error.find("expired") != std::string::npos);
  }
  SUBCASE("not yet valid") {
    auto r = pki::verify_chain(ch.leaf, {ch.inter}, {ch.root}, utc(2026, 5, 31));
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("not yet valid") != std::string::npos);
  }
  SUBCASE("wrong root") {
    testing::TestChain other;
    auto r = pki::verify_chain(ch.leaf, {ch.inter}, {other.root}, now);  // same subject name, other key
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.error.empty());
    auto k = ec256();
    auto stranger = pki::sign_certificate(tmpl("Other Root", utc(2026, 1, 1), utc(2036, 1, 1), testing::root_extensions()),
                                          k.public_key(), std::nullopt, k);
    auto r2 = pki::verify_chain(ch.leaf, {ch.inter}, {stranger}, now);
    CHECK_FALSE(r2.ok);
    CHECK(r2.error.find("unable to get local issuer certificate") != std::string::npos);
  }
  SUBCASE("missing intermediate") {
    auto r = pki::verify_chain(ch.leaf, {}, {ch.root}, now);
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("unable to get local issuer certificate") != std::string::npos);
    CHECK(r.depth == 0);
  }
  SUBCASE("no trust anchors at all") {
    CHECK_FALSE(pki::verify_chain(ch.leaf, {ch.inter, ch.root}, {}, now).ok);
  }
  SUBCASE("an issuer that is not a CA") {
    auto k = ec256();
    auto under_leaf = pki::sign_certificate(tmpl("x", utc(2026, 6, 1), utc(2026, 6, 2), testing::leaf_extensions()),
                                            k.public_key(), ch.leaf, ch.leaf_key);
    CHECK_FALSE(pki::verify_chain(under_leaf, {ch.leaf, ch.inter}, {ch.root}, now).ok);
  }
  SUBCASE("path length exceeded below a pathlen:0 intermediate") {
    auto sub_key = ec256();
    auto sub = pki::sign_certificate(tmpl("Sub CA", utc(2026, 5, 1), utc(2027, 1, 1), testing::root_extensions()),
                                     sub_key.public_key(), ch.inter, ch.inter_key);
    auto k = ec256();
    auto leaf = pki::sign_certificate(tmpl("w", utc(2026, 6, 1), utc(2026, 6, 2), testing::leaf_extensions()),
                                      k.public_key(), sub, sub_key);
    auto r = pki::verify_chain(leaf, {sub, ch.inter}, {ch.root}, now);
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("path length") != std::string::npos);
  }
}

TEST_CASE("pki.certificate: openssl verify -x509_strict accepts what sign_certificate makes") {
  testing::TempDir dir;
  testing::TestChain ch;
  for (const char* purpose : {"any", "sslserver", "sslclient"}) {
    CAPTURE(purpose);
    auto r = cli_verify(dir, ch.root, {ch.inter}, ch.leaf, {"-purpose", purpose});
    CHECK(r.status == 0);
    CHECK(r.out.find(": OK") != std::string::npos);
    CHECK(r.err == "");
  }
  auto r_inter = cli_verify(dir, ch.root, {}, ch.inter);
  CHECK(r_inter.status == 0);
  // The oracle can fail: a foreign root, and a missing intermediate, are refused.
  testing::TestChain other;
  CHECK(cli_verify(dir, other.root, {ch.inter}, ch.leaf).status != 0);
  CHECK(cli_verify(dir, ch.root, {}, ch.leaf).status != 0);
}

TEST_CASE("pki.certificate: canonical PEM is byte-identical whatever the input wrapping") {
  testing::TestChain ch;
  const std::string canonical = ch.inter.pem();
  CHECK(canonical == pki::to_pem("CERTIFICATE", ch.inter.der()));

  std::string b64 = pki::base64_encode(ch.inter.der());
  std::string crlf76 = "-----BEGIN CERTIFICATE-----\r\n";
  for (size_t i = 0; i < b64.size(); i += 76) crlf76 += b64.substr(i, 76) + "\r\n";
  crlf76 += "-----END CERTIFICATE-----\r\n";
  REQUIRE(crlf76 != canonical);

  auto reparsed = pki::Certificate::from_pem(crlf76);
  CHECK(reparsed.der() == ch.inter.der());
  CHECK(reparsed.pem() == canonical);
  CHECK(reparsed.sha256_fingerprint() == ch.inter.sha256_fingerprint());

  // OpenSSL's own writer produces the same bytes from the messy input.
  testing::TempDir dir;
  testing::write_file(dir.file("messy.pem"), crlf76);
  CHECK(testing::openssl_ok({"x509", "-in", dir.file("messy.pem")}) == canonical);
}

TEST_CASE("pki.certificate: sha256_fingerprint equals the openssl CLI's") {
  testing::TempDir dir;
  testing::TestChain ch;
  for (const pki::Certificate* c : {&ch.root, &ch.inter, &ch.leaf}) {
    testing::write_file(dir.file("c.pem"), c->pem());
    std::string out = testing::openssl_ok({"x509", "-in", dir.file("c.pem"), "-noout", "-fingerprint", "-sha256"});
    // "sha256 Fingerprint=AB:CD:..." -> "abcd..."
    auto eq = out.find('=');
    REQUIRE(eq != std::string::npos);
    std::string norm;
    for (char ch2 : out.substr(eq + 1))
      if (std::isxdigit(static_cast<unsigned char>(ch2))) norm.push_back(static_cast<char>(std::tolower(ch2)));
    CHECK(norm.size() == 64);
    CHECK(c->sha256_fingerprint() == norm);
  }
}

TEST_CASE("pki.certificate: Serial::random128 is positive, 16 bytes and unique over 1000 draws") {
  std::set<pki::Bytes> seen;
  int top_bits_seen = 0;
  for (int i = 0; i < 1000; ++i) {
    auto s = pki::Serial::random128();
    REQUIRE(s.bytes.size() == 16);
    REQUIRE((s.bytes[0] & 0x80) == 0);
    REQUIRE(s.bytes[0] != 0);
    if (s.bytes[0] & 0x40) ++top_bits_seen;
    seen.insert(s.bytes);
  }
  CHECK(seen.size() == 1000);
  // Bit 126 is random: not stuck at 0 or 1 (1000 draws; the chance of failing is ~1e-30).
  CHECK(top_bits_seen > 350);
  CHECK(top_bits_seen < 650);
}

TEST_CASE("pki.certificate: Serial hex round trip") {
  CHECK(pki::Serial::from_hex("0a1B").hex() == "0a1b");
  CHECK(pki::Serial::from_hex("a1b").hex() == "0a1b");  // odd length padded
  CHECK(pki::Serial::from_hex("0000ff").bytes == pki::Bytes{0xff});
  CHECK_THROWS_AS(pki::Serial::from_hex(""), pki::Error);
  CHECK_THROWS_AS(pki::Serial::from_hex("xyz"), pki::Error);
  CHECK_THROWS_AS(pki::Serial::from_hex(std::string(41, '1')), pki::Error);
  auto s = pki::Serial::random128();
  CHECK(pki::Serial::from_hex(s.hex()) == s);

  // A certificate carries exactly the serial of its template.
  auto key = ec256();
  auto t = tmpl("s", utc(2026, 1, 1), utc(2026, 2, 1), testing::root_extensions());
  t.serial = pki::Serial::from_hex("01");
  CHECK(pki::sign_certificate(t, key.public_key(), std::nullopt, key).serial().hex() == "01");
  t.serial = s;
  CHECK(pki::sign_certificate(t, key.public_key(), std::nullopt, key).serial() == s);
}

TEST_CASE("pki.certificate: sign_certificate refuses bad templates and keys") {
  testing::TestChain ch;
  auto key = ec256();
  auto t = tmpl("x", utc(2026, 6, 1), utc(2026, 6, 2), testing::leaf_extensions());

  SUBCASE("not_after <= not_before") {
    auto eq = t;
    eq.not_after = eq.not_before;
    CHECK_THROWS_AS(pki::sign_certificate(eq, key.public_key(), ch.inter, ch.inter_key), pki::Error);
    auto rev = t;
    std::swap(rev.not_before, rev.not_after);
    CHECK_THROWS_AS(pki::sign_certificate(rev, key.public_key(), ch.inter, ch.inter_key), pki::Error);
  }
  SUBCASE("issuer key that does not match the issuer certificate") {
    CHECK_THROWS_AS(pki::sign_certificate(t, key.public_key(), ch.inter, ch.root_key), pki::Error);
    CHECK_THROWS_AS(pki::sign_certificate(t, key.public_key(), ch.inter, key), pki::Error);
  }
  SUBCASE("self-signed, but signed by another key") {
    // With no issuer certificate the certificate is its own issuer: a foreign signing key would
    // make a "root" whose signature does not verify under its own key.
    CHECK_THROWS_AS(pki::sign_certificate(t, key.public_key(), std::nullopt, ch.root_key), pki::Error);
  }
  SUBCASE("serials that are not positive") {
    auto empty = t;
    empty.serial = pki::Serial{};
    CHECK_THROWS_AS(pki::sign_certificate(empty, key.public_key(), ch.inter, ch.inter_key), pki::Error);
    auto zero = t;
    zero.serial = pki::Serial::from_hex("00");
    CHECK_THROWS_AS(pki::sign_certificate(zero, key.public_key(), ch.inter, ch.inter_key), pki::Error);
  }
}

TEST_CASE("pki.certificate: parsing from PEM and DER") {
  testing::TestChain ch;
  auto key_pem = ch.leaf_key.pkcs8_pem();

  // from_pem takes the first CERTIFICATE block, past any other block.
  CHECK(pki::Certificate::from_pem(key_pem + ch.inter.pem() + ch.root.pem()).der() == ch.inter.der());
  auto all = pki::Certificate::all_from_pem(ch.inter.pem() + key_pem + ch.root.pem());
  REQUIRE(all.size() == 2);
  CHECK(all[0].der() == ch.inter.der());
  CHECK(all[1].der() == ch.root.der());

  CHECK_THROWS_AS(pki::Certificate::from_pem(key_pem), pki::Error);
  CHECK_THROWS_AS(pki::Certificate::all_from_pem(key_pem), pki::Error);
  CHECK_THROWS_AS(pki::Certificate::from_pem("no pem here"), pki::Error);

  pki::Bytes der = ch.inter.der();
  pki::Bytes truncated(der.begin(), der.end() - 1);
  CHECK_THROWS_AS(pki::Certificate::from_der(truncated), pki::Error);
  pki::Bytes trailing = der;
  trailing.push_back(0);
  CHECK_THROWS_AS(pki::Certificate::from_der(trailing), pki::Error);
  CHECK_THROWS_AS(pki::Certificate::from_der(pki::Bytes{}), pki::Error);
  CHECK_THROWS_AS(pki::Certificate::from_pem(pki::to_pem("CERTIFICATE", truncated)), pki::Error);

  // Copies are the same certificate and outlive the original.
  std::optional<pki::Certificate> original(pki::Certificate::from_der(der));
  pki::Certificate copy = *original;
  pki::Certificate assigned = ch.root;
  assigned = *original;
  original.reset();
  CHECK(copy.der() == der);
  CHECK(assigned.der() == der);
  CHECK(copy.subject() == ch.inter.subject());
  CHECK(assigned.sha256_fingerprint() == ch.inter.sha256_fingerprint());
}
