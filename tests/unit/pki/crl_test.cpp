// pki/crl.h: what sign_crl writes is what the accessors, raw OpenSSL and the openssl CLI read back;
// the CLI's CRL checks accept it (and `openssl verify -crl_check` sees the revocations); refusals
// of bad issuers and templates; reason names; parse errors.
#include <doctest/doctest.h>

#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "pki/builder.h"
#include "pki/certificate.h"
#include "pki/crl.h"
#include "pki/error.h"
#include "support/temp_dir.h"
#include "unit/pki/pki_test_support.h"

using namespace meshtrust;
using pki::RevocationReason;
using testing::dn;
using testing::epoch;
using testing::utc;

namespace {

pki::PrivateKey ec256() { return pki::PrivateKey::generate(pki::KeySpec::parse("ecdsa-p256")); }

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "ab01" -> "AB:01", as `openssl crl -text` prints key identifiers.
std::string colon_hex(const pki::Bytes& b) {
  std::string out;
  for (char c : upper(pki::to_hex(b))) {
    if (!out.empty() && out.size() % 3 == 2) out += ':';
    out += c;
  }
  return out;
}

// The NIDs of a CRL's extensions, in encoded order.
std::vector<int> crl_extension_nids(const pki::Crl& crl) {
  std::vector<int> out;
  for (int i = 0; i < X509_CRL_get_ext_count(&crl.raw()); ++i)
    out.push_back(OBJ_obj2nid(X509_EXTENSION_get_object(X509_CRL_get_ext(&crl.raw(), i))));
  return out;
}

// The serials of the raw X509_REVOKED stack, in its current order.
std::vector<std::string> raw_serials(const pki::Crl& crl) {
  std::vector<std::string> out;
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(&crl.raw());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    const ASN1_INTEGER* s = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i));
    out.push_back(pki::to_hex(pki::ByteView(ASN1_STRING_get0_data(s), static_cast<size_t>(ASN1_STRING_length(s)))));
  }
  return out;
}

// What `openssl crl -text` prints for each reason (OpenSSL's crl_reasons table).
std::string openssl_reason_text(RevocationReason r) {
  switch (r) {
    case RevocationReason::Unspecified: return "Unspecified";
    case RevocationReason::KeyCompromise: return "Key Compromise";
    case RevocationReason::CaCompromise: return "CA Compromise";
    case RevocationReason::AffiliationChanged: return "Affiliation Changed";
    case RevocationReason::Superseded: return "Superseded";
    case RevocationReason::CessationOfOperation: return "Cessation Of Operation";
    case RevocationReason::CertificateHold: return "Certificate Hold";
    case RevocationReason::RemoveFromCrl: return "Remove From CRL";
    case RevocationReason::PrivilegeWithdrawn: return "Privilege Withdrawn";
    case RevocationReason::AaCompromise: return "AA Compromise";
  }
  return "?";
}

// The tests' CRL window: issued at 00:00 on the tests' day (test_now is 12:00), valid a week.
const pki::Time kThisUpdate = utc(2026, 6, 1);
const pki::Time kNextUpdate = utc(2026, 6, 8);

// Every reason sign_crl writes, with serials in descending order so that sorting would show.
std::vector<pki::RevokedEntry> all_reason_entries() {
  const RevocationReason reasons[] = {
      RevocationReason::KeyCompromise,      RevocationReason::Unspecified,  RevocationReason::CaCompromise,
      RevocationReason::AffiliationChanged, RevocationReason::Superseded,   RevocationReason::CessationOfOperation,
      RevocationReason::CertificateHold,    RevocationReason::PrivilegeWithdrawn, RevocationReason::AaCompromise,
  };
  std::vector<pki::RevokedEntry> out;
  int i = 0;
  for (auto r : reasons) {
    // "900102", "89aaaa...", "880102", ...: descending, 3 and 16 bytes, the first with its top bit set.
    pki::Serial s = pki::Serial::from_hex(std::to_string(90 - i) + (i % 2 ? std::string(30, 'a') : "0102"));
    out.push_back({s, utc(2026, 5, 20 + i, 8, 30, i), r});
    ++i;
  }
  return out;
}

testing::CliResult cli_crl_verify(const testing::TempDir& dir, const pki::Crl& crl, const pki::Certificate& ca) {
  testing::write_file(dir.file("crl.pem"), crl.pem());
  testing::write_file(dir.file("ca.pem"), ca.pem());
  return testing::openssl_cli({"crl", "-in", dir.file("crl.pem"), "-CAfile", dir.file("ca.pem"), "-verify", "-noout"});
}

bool cli_says_verify_ok(const testing::CliResult& r) {
  return r.status == 0 && r.err.find("verify OK") != std::string::npos &&
         r.err.find("verify fail") == std::string::npos;
}

// A CRL made with raw OpenSSL, for what sign_crl never writes: no extensions, optional
// nextUpdate, and (if `reason` is set) one entry with that raw reasonCode value.
pki::Crl raw_crl(const pki::Certificate& issuer, const pki::PrivateKey& key, bool with_next_update,
                 std::optional<long> reason) {
  X509_CRL* crl = X509_CRL_new();
  REQUIRE(crl != nullptr);
  REQUIRE(X509_CRL_set_issuer_name(crl, X509_get_subject_name(&issuer.raw())) == 1);
  ASN1_TIME* t = ASN1_TIME_set(nullptr, static_cast<time_t>(epoch(kThisUpdate)));
  REQUIRE(X509_CRL_set1_lastUpdate(crl, t) == 1);
  if (with_next_update) {
    ASN1_TIME* n = ASN1_TIME_set(nullptr, static_cast<time_t>(epoch(kNextUpdate)));
    REQUIRE(X509_CRL_set1_nextUpdate(crl, n) == 1);
    ASN1_TIME_free(n);
  }
  if (reason) {
    REQUIRE(X509_CRL_set_version(crl, X509_CRL_VERSION_2) == 1);
    X509_REVOKED* rev = X509_REVOKED_new();
    ASN1_INTEGER* serial = ASN1_INTEGER_new();
    REQUIRE(ASN1_INTEGER_set(serial, 0x1234) == 1);
    REQUIRE(X509_REVOKED_set_serialNumber(rev, serial) == 1);
    REQUIRE(X509_REVOKED_set_revocationDate(rev, t) == 1);
    ASN1_ENUMERATED* code = ASN1_ENUMERATED_new();
    REQUIRE(ASN1_ENUMERATED_set(code, *reason) == 1);
    REQUIRE(X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, code, 0, X509V3_ADD_REPLACE) == 1);
    ASN1_ENUMERATED_free(code);
    ASN1_INTEGER_free(serial);
    REQUIRE(X509_CRL_add0_revoked(crl, rev) == 1);
  }
  ASN1_TIME_free(t);
  REQUIRE(X509_CRL_sign(crl, &key.raw(), EVP_sha256()) > 0);
  int len = i2d_X509_CRL(crl, nullptr);
  REQUIRE(len > 0);
  pki::Bytes der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  REQUIRE(i2d_X509_CRL(crl, &p) == len);
  X509_CRL_free(crl);
  return pki::Crl::from_der(der);
}

}  // namespace

TEST_CASE("pki.crl: a signed CRL reads back every field, in order") {
  testing::TestChain ch;
  auto entries = all_reason_entries();
  auto crl = pki::sign_crl({42, kThisUpdate, kNextUpdate, entries}, ch.root, ch.root_key);

  SUBCASE("number, times, issuer, AKI") {
    CHECK(crl.number() == 42);
    CHECK(epoch(crl.this_update()) == epoch(kThisUpdate));
    CHECK(epoch(crl.next_update()) == epoch(kNextUpdate));
    CHECK(crl.issuer() == ch.root.subject());
    REQUIRE(ch.root.subject_key_id().size() == 20);
    CHECK(crl.authority_key_id() == ch.root.subject_key_id());
    CHECK(X509_CRL_get_version(&crl.raw()) == X509_CRL_VERSION_2);
    CHECK(X509_CRL_get_signature_nid(&crl.raw()) == NID_ecdsa_with_SHA256);
  }
  SUBCASE("entries: serials, dates and reasons in the order given") {
    REQUIRE(crl.entries().size() == entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      CAPTURE(i);
      CHECK(crl.entries()[i].serial == entries[i].serial);
      CHECK(epoch(crl.entries()[i].revoked_at) == epoch(entries[i].revoked_at));
      CHECK(crl.entries()[i].reason == entries[i].reason);
    }
    CHECK(crl.entries() == entries);
    // The template really is out of serial order, so this shows that nothing sorted it.
    std::vector<std::string> given;
    for (const auto& e : entries) given.push_back(e.serial.hex());
    REQUIRE_FALSE(std::is_sorted(given.begin(), given.end()));
    CHECK(raw_serials(crl) == given);
  }
  SUBCASE("extensions: AKI then cRLNumber, non-critical; reasonCode only when not unspecified") {
    CHECK(crl_extension_nids(crl) == std::vector<int>{NID_authority_key_identifier, NID_crl_number});
    for (int i = 0; i < X509_CRL_get_ext_count(&crl.raw()); ++i)
      CHECK(X509_EXTENSION_get_critical(X509_CRL_get_ext(&crl.raw(), i)) == 0);
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(&crl.raw());
    REQUIRE(sk_X509_REVOKED_num(revoked) == static_cast<int>(entries.size()));
    for (size_t i = 0; i < entries.size(); ++i) {
      CAPTURE(i);
      const X509_REVOKED* rev = sk_X509_REVOKED_value(revoked, static_cast<int>(i));
      int idx = X509_REVOKED_get_ext_by_NID(rev, NID_crl_reason, -1);
      if (entries[i].reason == RevocationReason::Unspecified) {
        CHECK(idx < 0);
        CHECK(X509_REVOKED_get_ext_count(rev) == 0);
      } else {
        REQUIRE(idx >= 0);
        CHECK(X509_EXTENSION_get_critical(X509_REVOKED_get_ext(rev, idx)) == 0);
        auto* code = static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, nullptr, nullptr));
        REQUIRE(code != nullptr);
        CHECK(ASN1_ENUMERATED_get(code) == static_cast<long>(entries[i].reason));
        ASN1_ENUMERATED_free(code);
      }
    }
  }
  SUBCASE("DER and PEM round trips; copies") {
    CHECK(crl.pem() == pki::to_pem("X509 CRL", crl.der()));
    auto from_der = pki::Crl::from_der(crl.der());
    auto from_pem = pki::Crl::from_pem(crl.pem());
    for (const pki::Crl* c : {&from_der, &from_pem}) {
      CHECK(c->der() == crl.der());
      CHECK(c->number() == 42);
      CHECK(epoch(c->this_update()) == epoch(kThisUpdate));
      CHECK(epoch(c->next_update()) == epoch(kNextUpdate));
      CHECK(c->issuer() == ch.root.subject());
      CHECK(c->authority_key_id() == ch.root.subject_key_id());
      CHECK(c->entries() == entries);
      CHECK(c->verify(ch.root_key.public_key()));
    }
    std::optional<pki::Crl> original(pki::Crl::from_der(crl.der()));
    pki::Crl copy = *original;
    pki::Crl assigned = pki::sign_crl({1, kThisUpdate, kNextUpdate, {}}, ch.root, ch.root_key);
    assigned = *original;
    original.reset();
    CHECK(copy.der() == crl.der());
    CHECK(assigned.der() == crl.der());
    CHECK(copy.entries() == entries);
    CHECK(assigned.number() == 42);
    CHECK(copy.verify(ch.root_key.public_key()));
  }
  SUBCASE("entries() keeps the encoded order after OpenSSL sorts its stack for a lookup") {
    // X509_CRL_get0_by_serial sorts the in-memory stack by serial (OpenSSL's def_crl_lookup).
    ASN1_INTEGER* serial = ASN1_INTEGER_new();
    REQUIRE(ASN1_INTEGER_set(serial, 1) == 1);
    X509_REVOKED* found = nullptr;
    CHECK(X509_CRL_get0_by_serial(&crl.raw(), &found, serial) == 0);  // not listed
    ASN1_INTEGER_free(serial);
    std::vector<std::string> given;
    for (const auto& e : entries) given.push_back(e.serial.hex());
    auto sorted_now = raw_serials(crl);
    CHECK(std::is_permutation(sorted_now.begin(), sorted_now.end(), given.begin(), given.end()));
    REQUIRE(sorted_now != given);  // OpenSSL did reorder its stack, so the next line means something
    CHECK(crl.entries() == entries);
    CHECK(pki::Crl::from_der(crl.der()).entries() == entries);  // and the DER never changed
  }
}

TEST_CASE("pki.crl: number, times and serial limits") {
  testing::TestChain ch;
  SUBCASE("cRLNumber 0 and 2^64-1") {
    CHECK(pki::sign_crl({0, kThisUpdate, kNextUpdate, {}}, ch.root, ch.root_key).number() == 0);
    const std::uint64_t max = ~std::uint64_t{0};
    auto crl = pki::sign_crl({max, kThisUpdate, kNextUpdate, {}}, ch.root, ch.root_key);
    CHECK(crl.number() == max);
    testing::TempDir dir;
    testing::write_file(dir.file("crl.pem"), crl.pem());
    CHECK(testing::openssl_ok({"crl", "-in", dir.file("crl.pem"), "-noout", "-crlnumber"}) ==
          "crlNumber=0xFFFFFFFFFFFFFFFF\n");
  }
  SUBCASE("times before 2050 are UTCTime, later ones GeneralizedTime, both exact") {
    auto tu = utc(2049, 12, 31, 23, 59, 59), nu = utc(2050, 1, 1, 0, 0, 1);
    pki::RevokedEntry e{pki::Serial::from_hex("01"), utc(2051, 2, 3, 4, 5, 6), RevocationReason::Superseded};
    auto crl = pki::sign_crl({7, tu, nu, {e}}, ch.root, ch.root_key);
    CHECK(epoch(crl.this_update()) == epoch(tu));
    CHECK(epoch(crl.next_update()) == epoch(nu));
    CHECK(epoch(crl.entries().at(0).revoked_at) == epoch(e.revoked_at));
    CHECK(ASN1_STRING_type(X509_CRL_get0_lastUpdate(&crl.raw())) == V_ASN1_UTCTIME);
    CHECK(ASN1_STRING_type(X509_CRL_get0_nextUpdate(&crl.raw())) == V_ASN1_GENERALIZEDTIME);
  }
  SUBCASE("serials: 1 byte, 20 bytes, and leading zeros stripped") {
    pki::Serial twenty = pki::Serial::from_hex(std::string(40, 'f'));
    REQUIRE(twenty.bytes.size() == 20);
    pki::Serial padded{{0x00, 0x00, 0x05}};
    auto crl = pki::sign_crl({1, kThisUpdate, kNextUpdate,
                              {{pki::Serial::from_hex("01"), kThisUpdate, RevocationReason::Unspecified},
                               {twenty, kThisUpdate, RevocationReason::KeyCompromise},
                               {padded, kThisUpdate, RevocationReason::Superseded}}},
                             ch.root, ch.root_key);
    REQUIRE(crl.entries().size() == 3);
    CHECK(crl.entries()[0].serial.hex() == "01");
    CHECK(crl.entries()[1].serial == twenty);
    CHECK(crl.entries()[2].serial.hex() == "05");
  }
}

TEST_CASE("pki.crl: the AKI is the issuer's SKI as written, or the key hash when it has none") {
  testing::TestChain ch;
  SUBCASE("an issuer whose SKI is not the key hash (an imported CA may have any SKI)") {
    X509* x = X509_dup(&ch.root.raw());
    REQUIRE(x != nullptr);
    const pki::Bytes custom{0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
    ASN1_OCTET_STRING* ski = ASN1_OCTET_STRING_new();
    REQUIRE(ASN1_OCTET_STRING_set(ski, custom.data(), static_cast<int>(custom.size())) == 1);
    REQUIRE(X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, X509V3_ADD_REPLACE) == 1);
    ASN1_OCTET_STRING_free(ski);
    REQUIRE(X509_sign(x, &ch.root_key.raw(), EVP_sha256()) > 0);
    pki::Certificate issuer{pki::X509Ptr(x)};
    REQUIRE(issuer.subject_key_id() == custom);
    auto crl = pki::sign_crl({1, kThisUpdate, kNextUpdate, {}}, issuer, ch.root_key);
    CHECK(crl.authority_key_id() == custom);
  }
  SUBCASE("an issuer without an SKI: RFC 5280 method 1, what sign_certificate does too") {
    auto key = ec256();
    auto ext = testing::root_extensions();
    ext.subject_key_id = false;
    auto issuer = pki::sign_certificate({pki::Serial::random128(), dn({{"O", "Istio"}, {"CN", "No SKI CA"}}),
                                         utc(2026, 1, 1), utc(2036, 1, 1), ext},
                                        key.public_key(), std::nullopt, key);
    REQUIRE(issuer.subject_key_id().empty());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    REQUIRE(X509_pubkey_digest(&issuer.raw(), EVP_sha1(), md, &md_len) == 1);
    auto crl = pki::sign_crl({1, kThisUpdate, kNextUpdate, {}}, issuer, key);
    CHECK(crl.authority_key_id() == pki::Bytes(md, md + md_len));
    CHECK(crl.authority_key_id().size() == 20);
  }
}

TEST_CASE("pki.crl: the openssl CLI verifies the CRL and lists each serial with its reason") {
  testing::TempDir dir;
  testing::TestChain ch;
  auto entries = all_reason_entries();
  auto crl = pki::sign_crl({42, kThisUpdate, kNextUpdate, entries}, ch.root, ch.root_key);

  auto v = cli_crl_verify(dir, crl, ch.root);
  CHECK_MESSAGE(cli_says_verify_ok(v), v.err);

  // OpenSSL re-encodes to the same DER and the same canonical PEM.
  CHECK(testing::openssl_ok({"crl", "-in", dir.file("crl.pem")}) == crl.pem());
  testing::openssl_ok({"crl", "-in", dir.file("crl.pem"), "-outform", "DER", "-out", dir.file("crl.der")});
  std::string der = testing::read_file(dir.file("crl.der"));
  CHECK(pki::Bytes(der.begin(), der.end()) == crl.der());

  std::string text = testing::openssl_ok({"crl", "-in", dir.file("crl.pem"), "-text", "-noout"});
  CHECK(text.find("Version 2 (0x1)") != std::string::npos);
  CHECK(text.find("Signature Algorithm: ecdsa-with-SHA256") != std::string::npos);
  CHECK(text.find("Issuer: O = Istio, CN = Root CA") != std::string::npos);
  CHECK(text.find("Last Update: Jun  1 00:00:00 2026 GMT") != std::string::npos);
  CHECK(text.find("Next Update: Jun  8 00:00:00 2026 GMT") != std::string::npos);
  CHECK(text.find("X509v3 CRL Number: \n                42") != std::string::npos);
  CHECK(text.find("X509v3 Authority Key Identifier: \n                " + colon_hex(ch.root.subject_key_id())) !=
        std::string::npos);

  // One "Serial Number:" block per entry, in order, each with its own reason (or none).
  const std::string marker = "Serial Number: ";
  std::vector<std::string> blocks;
  for (size_t pos = text.find(marker); pos != std::string::npos;) {
    size_t next = text.find(marker, pos + 1);
    blocks.push_back(text.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
    pos = next;
  }
  REQUIRE(blocks.size() == entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    CAPTURE(blocks[i]);
    CHECK(blocks[i].rfind(marker + upper(entries[i].serial.hex()) + "\n", 0) == 0);
    if (entries[i].reason == RevocationReason::Unspecified) {
      CHECK(blocks[i].find("CRL Reason Code") == std::string::npos);
    } else {
      CHECK(blocks[i].find("X509v3 CRL Reason Code: \n                " + openssl_reason_text(entries[i].reason) +
                           "\n") != std::string::npos);
    }
  }
  CHECK(text.find("Key Compromise") != std::string::npos);
}

TEST_CASE("pki.crl: `openssl verify -crl_check` sees what the CRLs revoke") {
  testing::TempDir dir;
  testing::TestChain ch;
  testing::write_file(dir.file("root.pem"), ch.root.pem());
  testing::write_file(dir.file("inter.pem"), ch.inter.pem());
  testing::write_file(dir.file("leaf.pem"), ch.leaf.pem());
  auto verify = [&](const std::vector<std::string>& crls, const std::string& flag, const std::string& target,
                    bool with_untrusted) {
    std::string all;
    for (const auto& c : crls) all += c;
    testing::write_file(dir.file("crls.pem"), all);
    std::vector<std::string> args{"verify", "-x509_strict", flag, "-attime", std::to_string(epoch(testing::test_now())),
                                  "-CAfile", dir.file("root.pem"), "-CRLfile", dir.file("crls.pem")};
    if (with_untrusted) args.insert(args.end(), {"-untrusted", dir.file("inter.pem")});
    args.push_back(dir.file(target));
    return testing::openssl_cli(args);
  };

  auto root_empty = pki::sign_crl({1, kThisUpdate, kNextUpdate, {}}, ch.root, ch.root_key).pem();
  auto root_revokes_inter =
      pki::sign_crl({2, kThisUpdate, kNextUpdate,
                     {{pki::Serial::from_hex("0abc"), utc(2026, 5, 30), RevocationReason::Superseded},
                      {ch.inter.serial(), utc(2026, 5, 31), RevocationReason::CaCompromise}}},
                    ch.root, ch.root_key)
          .pem();
  auto inter_empty = pki::sign_crl({1, kThisUpdate, kNextUpdate, {}}, ch.inter, ch.inter_key).pem();
  const pki::RevokedEntry leaf_entry{ch.leaf.serial(), utc(2026, 6, 1), RevocationReason::KeyCompromise};
  auto inter_revokes_leaf = pki::sign_crl({5, kThisUpdate, kNextUpdate, {leaf_entry}}, ch.inter, ch.inter_key).pem();

  auto ok = verify({root_empty}, "-crl_check", "inter.pem", false);
  CHECK_MESSAGE(ok.status == 0, (ok.out + ok.err));
  auto revoked = verify({root_revokes_inter}, "-crl_check", "inter.pem", false);
  CHECK(revoked.status != 0);
  CHECK((revoked.out + revoked.err).find("certificate revoked") != std::string::npos);

  auto all_ok = verify({root_empty, inter_empty}, "-crl_check_all", "leaf.pem", true);
  CHECK_MESSAGE(all_ok.status == 0, (all_ok.out + all_ok.err));
  auto leaf_revoked = verify({root_empty, inter_revokes_leaf}, "-crl_check_all", "leaf.pem", true);
  CHECK(leaf_revoked.status != 0);
  CHECK((leaf_revoked.out + leaf_revoked.err).find("certificate revoked") != std::string::npos);
  auto inter_revoked = verify({root_revokes_inter, inter_empty}, "-crl_check_all", "leaf.pem", true);
  CHECK(inter_revoked.status != 0);
  CHECK((inter_revoked.out + inter_revoked.err).find("certificate revoked") != std::string::npos);

  // A week later the CRLs are past nextUpdate: the CLI sees the time window we wrote.
  auto late = testing::openssl_cli({"verify", "-crl_check", "-attime", std::to_string(epoch(utc(2026, 6, 9))),
                                    "-CAfile", dir.file("root.pem"), "-CRLfile", dir.file("crls.pem"),
                                    dir.file("inter.pem")});
  CHECK(late.status != 0);
  CHECK((late.out + late.err).find("CRL has expired") != std::string::npos);
}

TEST_CASE("pki.crl: the signature binds the CRL to its issuer's key") {
  testing::TempDir dir;
  testing::TestChain ch;
  auto crl = pki::sign_crl({3, kThisUpdate, kNextUpdate, all_reason_entries()}, ch.root, ch.root_key);
  CHECK(crl.verify(ch.root_key.public_key()));
  CHECK_FALSE(crl.verify(ch.inter_key.public_key()));
  CHECK_FALSE(crl.verify(ec256().public_key()));
  CHECK_FALSE(crl.verify(testing::shared_rsa2048().public_key()));  // wrong key type: -1, not a throw

  // One flipped bit in the signature.
  pki::Bytes der = crl.der();
  der.back() ^= 0x01;
  auto tampered = pki::Crl::from_der(der);
  CHECK_FALSE(tampered.verify(ch.root_key.public_key()));

  // The CLI: an unrelated CA with the *same* subject name (TestChain names are fixed) finds the
  // "issuer" but the signature fails; one with another name does not even find it.
  testing::TestChain other;
  REQUIRE(other.root.subject() == ch.root.subject());
  auto same_name = cli_crl_verify(dir, crl, other.root);
  CHECK_FALSE(cli_says_verify_ok(same_name));
  // OpenSSL 3.0's `crl -verify` exits 0 on a bad signature and only prints "verify failure",
  // which is why cli_says_verify_ok reads stderr and not just the exit status.
  CHECK(same_name.err.find("verify failure") != std::string::npos);
  auto key = ec256();
  auto stranger = pki::sign_certificate({pki::Serial::random128(), dn({{"O", "Elsewhere"}, {"CN", "Root CA"}}),
                                         utc(2026, 1, 1), utc(2036, 1, 1), testing::root_extensions()},
                                        key.public_key(), std::nullopt, key);
  auto other_name = cli_crl_verify(dir, crl, stranger);
  CHECK_FALSE(cli_says_verify_ok(other_name));
  CHECK(other_name.status != 0);
  // ...and the control: the right CA still passes through the same helper.
  CHECK(cli_says_verify_ok(cli_crl_verify(dir, crl, ch.root)));
  CHECK_FALSE(cli_says_verify_ok(cli_crl_verify(dir, tampered, ch.root)));
}

TEST_CASE("pki.crl: an RSA CA signs with sha256WithRSAEncryption") {
  testing::TempDir dir;
  const auto& rsa = testing::shared_rsa2048();
  auto root = pki::sign_certificate({pki::Serial::random128(), dn({{"O", "Istio"}, {"CN", "RSA Root CA"}}),
                                     utc(2026, 1, 1), utc(2036, 1, 1), testing::root_extensions()},
                                    rsa.public_key(), std::nullopt, rsa);
  auto crl = pki::sign_crl({4, kThisUpdate, kNextUpdate, all_reason_entries()}, root, rsa);
  CHECK(X509_CRL_get_signature_nid(&crl.raw()) == NID_sha256WithRSAEncryption);
  CHECK(crl.verify(rsa.public_key()));
  CHECK_FALSE(crl.verify(ec256().public_key()));
  auto v = cli_crl_verify(dir, crl, root);
  CHECK_MESSAGE(cli_says_verify_ok(v), v.err);
}

TEST_CASE("pki.crl: an empty CRL is valid") {
  testing::TempDir dir;
  testing::TestChain ch;
  auto crl = pki::sign_crl({9, kThisUpdate, kNextUpdate, {}}, ch.inter, ch.inter_key);
  CHECK(crl.entries().empty());
  CHECK(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(&crl.raw())) <= 0);
  CHECK(crl.number() == 9);
  CHECK(crl.issuer() == ch.inter.subject());
  CHECK(crl.authority_key_id() == ch.inter.subject_key_id());
  CHECK(crl.verify(ch.inter_key.public_key()));
  CHECK(pki::Crl::from_pem(crl.pem()).entries().empty());

  auto v = cli_crl_verify(dir, crl, ch.inter);
  CHECK_MESSAGE(cli_says_verify_ok(v), v.err);
  std::string text = testing::openssl_ok({"crl", "-in", dir.file("crl.pem"), "-text", "-noout"});
  CHECK(text.find("No Revoked Certificates.") != std::string::npos);
}

TEST_CASE("pki.crl: sign_crl refuses bad issuers, keys, time windows and entries") {
  testing::TestChain ch;
  const pki::CrlTemplate good{1, kThisUpdate, kNextUpdate,
                              {{pki::Serial::from_hex("0a"), utc(2026, 5, 31), RevocationReason::KeyCompromise}}};
  // The control: every refusal below changes one thing from this.
  REQUIRE_NOTHROW(pki::sign_crl(good, ch.root, ch.root_key));
  REQUIRE_NOTHROW(pki::sign_crl(good, ch.inter, ch.inter_key));

  auto self_signed = [](pki::Extensions ext, const pki::PrivateKey& key) {
    return pki::sign_certificate({pki::Serial::random128(), dn({{"O", "Istio"}, {"CN", "Test CA"}}), utc(2026, 1, 1),
                                  utc(2036, 1, 1), std::move(ext)},
                                 key.public_key(), std::nullopt, key);
  };

  SUBCASE("an issuer that is not a CA") {
    CHECK_THROWS_AS(pki::sign_crl(good, ch.leaf, ch.leaf_key), pki::Error);
    // CA:FALSE even though keyUsage grants cRLSign: the CA check alone refuses it.
    auto key = ec256();
    auto ext = testing::root_extensions();
    ext.basic_constraints = pki::BasicConstraints{false, std::nullopt, true};
    auto not_ca = self_signed(ext, key);
    REQUIRE(not_ca.key_usage().has_value());
    REQUIRE((*not_ca.key_usage() & pki::kCrlSign) != 0);
    CHECK_THROWS_AS(pki::sign_crl(good, not_ca, key), pki::Error);
  }
  SUBCASE("a CA whose keyUsage lacks cRLSign (the makefile profile's shape)") {
    auto key = ec256();
    auto ext = testing::root_extensions();
    ext.key_usage = pki::KeyUsage{pki::kKeyCertSign | pki::kDigitalSignature, true};
    auto no_crl_sign = self_signed(ext, key);
    REQUIRE(no_crl_sign.is_ca());
    CHECK(*no_crl_sign.key_usage() == (pki::kKeyCertSign | pki::kDigitalSignature));
    CHECK_THROWS_AS(pki::sign_crl(good, no_crl_sign, key), pki::Error);
  }
  SUBCASE("a CA without a keyUsage extension is not restricted (RFC 5280 §4.2.1.3, as OpenSSL reads it)") {
    auto key = ec256();
    auto ext = testing::root_extensions();
    ext.key_usage.reset();
    auto unrestricted = self_signed(ext, key);
    REQUIRE(unrestricted.is_ca());
    CHECK_FALSE(unrestricted.key_usage().has_value());
    auto crl = pki::sign_crl(good, unrestricted, key);
    testing::TempDir dir;
    auto v = cli_crl_verify(dir, crl, unrestricted);
    CHECK_MESSAGE(cli_says_verify_ok(v), v.err);
  }
  SUBCASE("a key that does not match the issuer certificate") {
    CHECK_THROWS_AS(pki::sign_crl(good, ch.root, ch.inter_key), pki::Error);
    CHECK_THROWS_AS(pki::sign_crl(good, ch.inter, ch.root_key), pki::Error);
    CHECK_THROWS_AS(pki::sign_crl(good, ch.root, ec256()), pki::Error);
  }
  SUBCASE("next_update <= this_update") {
    auto eq = good;
    eq.next_update = eq.this_update;
    CHECK_THROWS_AS(pki::sign_crl(eq, ch.root, ch.root_key), pki::Error);
    auto rev = good;
    std::swap(rev.this_update, rev.next_update);
    CHECK_THROWS_AS(pki::sign_crl(rev, ch.root, ch.root_key), pki::Error);
    auto one_second = good;
    one_second.next_update = one_second.this_update + std::chrono::seconds(1);
    CHECK_NOTHROW(pki::sign_crl(one_second, ch.root, ch.root_key));
  }
  SUBCASE("duplicate serials, also when spelled with a leading zero") {
    auto dup = good;
    dup.entries.push_back({pki::Serial::from_hex("0b"), utc(2026, 5, 31), RevocationReason::Superseded});
    REQUIRE_NOTHROW(pki::sign_crl(dup, ch.root, ch.root_key));
    dup.entries.push_back({pki::Serial::from_hex("0a"), utc(2026, 5, 30), RevocationReason::Unspecified});
    CHECK_THROWS_AS(pki::sign_crl(dup, ch.root, ch.root_key), pki::Error);
    auto padded = good;
    padded.entries.push_back({pki::Serial{{0x00, 0x0a}}, utc(2026, 5, 30), RevocationReason::Superseded});
    CHECK_THROWS_AS(pki::sign_crl(padded, ch.root, ch.root_key), pki::Error);
  }
  SUBCASE("serials that are not positive or too long") {
    for (const pki::Serial& s : {pki::Serial{}, pki::Serial{{0x00}}, pki::Serial{{0x00, 0x00}},
                                 pki::Serial{pki::Bytes(21, 0x11)}}) {
      auto bad = good;
      bad.entries.push_back({s, utc(2026, 5, 30), RevocationReason::Superseded});
      CHECK_THROWS_AS(pki::sign_crl(bad, ch.root, ch.root_key), pki::Error);
    }
  }
  SUBCASE("removeFromCRL (delta CRLs only) and values outside CRLReason") {
    for (auto r : {RevocationReason::RemoveFromCrl, static_cast<RevocationReason>(7),
                   static_cast<RevocationReason>(11), static_cast<RevocationReason>(-1)}) {
      auto bad = good;
      bad.entries.push_back({pki::Serial::from_hex("0c"), utc(2026, 5, 30), r});
      CHECK_THROWS_AS(pki::sign_crl(bad, ch.root, ch.root_key), pki::Error);
    }
  }
}

TEST_CASE("pki.crl: revocation reason names") {
  const std::vector<std::string> rfc{"unspecified",     "keyCompromise",   "cACompromise",       "affiliationChanged",
                                     "superseded",      "cessationOfOperation", "certificateHold", "removeFromCRL",
                                     "privilegeWithdrawn", "aACompromise"};
  const std::vector<RevocationReason> values{
      RevocationReason::Unspecified,        RevocationReason::KeyCompromise,   RevocationReason::CaCompromise,
      RevocationReason::AffiliationChanged, RevocationReason::Superseded,      RevocationReason::CessationOfOperation,
      RevocationReason::CertificateHold,    RevocationReason::RemoveFromCrl,   RevocationReason::PrivilegeWithdrawn,
      RevocationReason::AaCompromise};
  const std::vector<int> codes{0, 1, 2, 3, 4, 5, 6, 8, 9, 10};  // RFC 5280 §5.3.1
  const std::vector<std::string> kebab{"unspecified",         "key-compromise",   "ca-compromise",
                                       "affiliation-changed", "superseded",       "cessation-of-operation",
                                       "certificate-hold",    "remove-from-crl",  "privilege-withdrawn",
                                       "aa-compromise"};
  CHECK(pki::revocation_reason_names() == rfc);

  for (size_t i = 0; i < rfc.size(); ++i) {
    CAPTURE(rfc[i]);
    CHECK(static_cast<int>(values[i]) == codes[i]);
    CHECK(pki::to_string(values[i]) == rfc[i]);
    CHECK(pki::parse_revocation_reason(rfc[i]) == values[i]);
    CHECK(pki::parse_revocation_reason(upper(rfc[i])) == values[i]);
    CHECK(pki::parse_revocation_reason(lower(rfc[i])) == values[i]);
    CHECK(pki::parse_revocation_reason(kebab[i]) == values[i]);
    CHECK(pki::parse_revocation_reason(upper(kebab[i])) == values[i]);
    std::string snake = kebab[i];
    std::replace(snake.begin(), snake.end(), '-', '_');
    CHECK(pki::parse_revocation_reason(snake) == values[i]);
  }
  CHECK(pki::parse_revocation_reason("Key-Compromise") == RevocationReason::KeyCompromise);
  CHECK(pki::parse_revocation_reason("CACompromise") == RevocationReason::CaCompromise);  // OpenSSL's spelling
  CHECK(pki::parse_revocation_reason("AACompromise") == RevocationReason::AaCompromise);

  for (const char* garbage : {"", "key compromise", "keycompromised", "compromise", "7", "1", "unknown", "none",
                              "key--compromise", "-keycompromise", "key-compromise-", "k-e-y-compromise",
                              "keyCompromise ", " keyCompromise", "ca_compromise-x", "key-_compromise",
                              "removeFromCRL\n"}) {
    CAPTURE(garbage);
    CHECK_FALSE(pki::parse_revocation_reason(garbage).has_value());
  }
  CHECK_FALSE(pki::parse_revocation_reason(std::string(1000, 'a')).has_value());
  CHECK(pki::to_string(static_cast<RevocationReason>(7)) != "unspecified");
}

TEST_CASE("pki.crl: from_pem and from_der refuse garbage") {
  testing::TestChain ch;
  auto crl = pki::sign_crl({1, kThisUpdate, kNextUpdate, all_reason_entries()}, ch.root, ch.root_key);
  pki::Bytes der = crl.der();

  CHECK_THROWS_AS(pki::Crl::from_der(pki::Bytes{}), pki::Error);
  CHECK_THROWS_AS(pki::Crl::from_der(pki::Bytes{0x30, 0x03, 0x02, 0x01, 0x01}), pki::Error);
  CHECK_THROWS_AS(pki::Crl::from_der(pki::as_bytes("not a CRL at all")), pki::Error);
  CHECK_THROWS_AS(pki::Crl::from_der(pki::Bytes(der.begin(), der.end() - 1)), pki::Error);
  pki::Bytes trailing = der;
  trailing.push_back(0);
  CHECK_THROWS_AS(pki::Crl::from_der(trailing), pki::Error);
  CHECK_THROWS_AS(pki::Crl::from_der(ch.root.der()), pki::Error);  // valid DER, but a certificate

  CHECK_THROWS_AS(pki::Crl::from_pem(""), pki::Error);
  CHECK_THROWS_AS(pki::Crl::from_pem("no pem here"), pki::Error);
  CHECK_THROWS_AS(pki::Crl::from_pem(ch.root.pem()), pki::Error);  // PEM, but no X509 CRL block
  CHECK_THROWS_AS(pki::Crl::from_pem(pki::to_pem("X509 CRL", pki::Bytes(der.begin(), der.end() - 1))), pki::Error);
  CHECK_THROWS_AS(pki::Crl::from_pem(pki::to_pem("X509 CRL", ch.root.der())), pki::Error);
  CHECK_THROWS_AS(pki::Crl::from_pem("-----BEGIN X509 CRL-----\n!!!!\n-----END X509 CRL-----\n"), pki::Error);
  // The first X509 CRL block, past other blocks.
  CHECK(pki::Crl::from_pem(ch.root.pem() + crl.pem() + ch.inter.pem()).der() == der);
  // The control: the untouched bytes parse.
  CHECK_NOTHROW(pki::Crl::from_der(der));
}

TEST_CASE("pki.crl: CRLs made elsewhere: optional parts absent, reason codes out of range") {
  testing::TestChain ch;
  SUBCASE("a v1 CRL without extensions or nextUpdate") {
    auto crl = raw_crl(ch.root, ch.root_key, false, std::nullopt);
    CHECK(crl.verify(ch.root_key.public_key()));
    CHECK(crl.issuer() == ch.root.subject());
    CHECK(epoch(crl.this_update()) == epoch(kThisUpdate));
    CHECK_THROWS_AS(crl.next_update(), pki::Error);
    CHECK_THROWS_AS(crl.number(), pki::Error);
    CHECK(crl.authority_key_id().empty());
    CHECK(crl.entries().empty());
  }
  SUBCASE("a raw reasonCode OpenSSL writes but RFC 5280 does not define") {
    CHECK(raw_crl(ch.root, ch.root_key, true, 1L).entries().at(0).reason == RevocationReason::KeyCompromise);
    CHECK(raw_crl(ch.root, ch.root_key, true, 8L).entries().at(0).reason == RevocationReason::RemoveFromCrl);
    CHECK(raw_crl(ch.root, ch.root_key, true, 0L).entries().at(0).reason == RevocationReason::Unspecified);
    CHECK(raw_crl(ch.root, ch.root_key, true, 1L).entries().at(0).serial.hex() == "1234");
    CHECK_THROWS_AS(raw_crl(ch.root, ch.root_key, true, 7L), pki::Error);
    CHECK_THROWS_AS(raw_crl(ch.root, ch.root_key, true, 11L), pki::Error);
    CHECK_THROWS_AS(raw_crl(ch.root, ch.root_key, true, -1L), pki::Error);
  }
}

TEST_CASE("pki.crl: Certificate::key_usage reads the bits sign_certificate wrote") {
  testing::TestChain ch;
  CHECK(ch.root.key_usage() == (pki::kKeyCertSign | pki::kCrlSign | pki::kDigitalSignature));
  CHECK(ch.inter.key_usage() == (pki::kKeyCertSign | pki::kCrlSign | pki::kDigitalSignature));
  CHECK(ch.leaf.key_usage() == (pki::kDigitalSignature | pki::kKeyEncipherment));
  auto key = ec256();
  for (unsigned bit = 0; bit < 7; ++bit) {
    CAPTURE(bit);
    auto ext = testing::root_extensions();
    ext.key_usage = pki::KeyUsage{1u << bit, true};
    auto c = pki::sign_certificate(
        {pki::Serial::random128(), dn({{"CN", "ku"}}), utc(2026, 1, 1), utc(2027, 1, 1), ext}, key.public_key(),
        std::nullopt, key);
    CHECK(c.key_usage() == (1u << bit));
  }
}
