// pki/key.h: key algorithm names, generation, PEM in every form istiod accepts (the foreign forms
// made by the openssl CLI at test time), and SHA-256 signatures checked both ways against the CLI.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "pki/error.h"
#include "pki/key.h"
#include "support/temp_dir.h"
#include "unit/pki/pki_test_support.h"

using namespace meshtrust;
using pki::KeySpec;
using testing::openssl_cli;
using testing::openssl_ok;
using testing::read_file;
using testing::write_file;

namespace {

// The longest run of characters that could be base64 or hex key material.
size_t longest_b64_run(const std::string& s) {
  size_t best = 0, run = 0;
  for (char c : s) {
    bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
    run = b64 ? run + 1 : 0;
    best = std::max(best, run);
  }
  return best;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const pki::Error& e) {
    return e.what();
  }
  FAIL("no pki::Error was thrown");
  return "";
}

// The public key the openssl CLI derives from a private key file.
pki::PublicKey cli_public_key(const testing::TempDir& dir, const std::string& key_file) {
  openssl_ok({"pkey", "-in", key_file, "-pubout", "-outform", "DER", "-out", dir.file("pub.der")});
  std::string der = read_file(dir.file("pub.der"));
  return pki::PublicKey::from_der(pki::as_bytes(der));
}

}  // namespace

TEST_CASE("pki.key: KeySpec::parse accepts exactly the five issued algorithms") {
  struct Expected {
    const char* name;
    KeySpec::Type type;
    int bits;
  };
  const Expected expected[] = {{"rsa-2048", KeySpec::Type::Rsa, 2048},
                               {"rsa-3072", KeySpec::Type::Rsa, 3072},
                               {"rsa-4096", KeySpec::Type::Rsa, 4096},
                               {"ecdsa-p256", KeySpec::Type::Ec, 256},
                               {"ecdsa-p384", KeySpec::Type::Ec, 384}};
  REQUIRE(KeySpec::names().size() == 5);
  for (const auto& e : expected) {
    CAPTURE(e.name);
    KeySpec s = KeySpec::parse(e.name);
    CHECK(s.type == e.type);
    CHECK(s.bits == e.bits);
    CHECK(s.name() == e.name);  // round trip
    CHECK(std::find(KeySpec::names().begin(), KeySpec::names().end(), e.name) != KeySpec::names().end());
  }
  for (const auto& n : KeySpec::names()) CHECK(KeySpec::parse(n).name() == n);
  CHECK(KeySpec{}.name() == "ecdsa-p256");
}

TEST_CASE("pki.key: KeySpec::parse refuses other names and lists the accepted ones") {
  for (const char* bad : {"rsa-1024", "", "ecdsa-p521", "rsa", "ecdsa", "rsa-2048 ", " rsa-2048", "rsa2048", "ed25519"}) {
    CAPTURE(bad);
    std::string msg = error_of([&] { KeySpec::parse(bad); });
    for (const auto& n : KeySpec::names()) CHECK(msg.find(n) != std::string::npos);
  }
  // A hostile name is not echoed whole.
  std::string huge(10000, 'x');
  std::string msg = error_of([&] { KeySpec::parse(huge); });
  CHECK(msg.size() < 300);
}

TEST_CASE("pki.key: generate makes keys of the requested algorithm; PKCS#8 PEM round trips") {
  auto check_key = [](const pki::PrivateKey& key, const KeySpec& spec) {
    CHECK(key.spec() == spec);
    CHECK(key.public_key().spec() == spec);
    std::string pem = key.pkcs8_pem();
    CHECK(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
    auto blocks = pki::parse_pem(pem);
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0].der == key.pkcs8_der());
    CHECK(pki::to_pem("PRIVATE KEY", blocks[0].der) == pem);  // canonical
    auto back = pki::PrivateKey::from_pem(pem);
    CHECK(back.matches(key.public_key()));
    CHECK(back.pkcs8_der() == key.pkcs8_der());
    auto back_der = pki::PrivateKey::from_pkcs8_der(key.pkcs8_der());
    CHECK(back_der.matches(key.public_key()));
    // The public key's own encodings agree.
    CHECK(pki::PublicKey::from_der(key.public_key().der()) == key.public_key());
    CHECK(key.public_key().pem() == pki::to_pem("PUBLIC KEY", key.public_key().der()));
  };
  for (const char* name : {"ecdsa-p256", "ecdsa-p384"}) {
    CAPTURE(name);
    auto spec = KeySpec::parse(name);
    auto a = pki::PrivateKey::generate(spec);
    auto b = pki::PrivateKey::generate(spec);
    check_key(a, spec);
    CHECK_FALSE(a.matches(b.public_key()));  // fresh randomness each time
  }
  check_key(testing::shared_rsa2048(), KeySpec::parse("rsa-2048"));
}

TEST_CASE("pki.key: generate refuses specs it does not issue") {
  CHECK_THROWS_AS(pki::PrivateKey::generate(KeySpec{KeySpec::Type::Rsa, 1024}), pki::Error);
  // A curve size other than 256/384 must not silently become P-256.
  for (int bits : {0, 224, 521}) {
    CAPTURE(bits);
    try {
      auto k = pki::PrivateKey::generate(KeySpec{KeySpec::Type::Ec, bits});
      CHECK(k.spec() == KeySpec{KeySpec::Type::Ec, bits});
    } catch (const pki::Error&) {
      // refusing is the right answer
    }
  }
}

// rsa-3072 and rsa-4096 take 1-5 s each on a busy machine: skipped unless run with --no-skip.
TEST_CASE("pki.key: [slow] generate rsa-3072 and rsa-4096" * doctest::skip()) {
  for (const char* name : {"rsa-3072", "rsa-4096"}) {
    CAPTURE(name);
    auto key = pki::PrivateKey::generate(KeySpec::parse(name));
    CHECK(key.spec().name() == name);
    CHECK(pki::PrivateKey::from_pem(key.pkcs8_pem()).matches(key.public_key()));
  }
}

TEST_CASE("pki.key: from_pem reads the traditional forms the openssl CLI writes") {
  testing::TempDir dir;

  SUBCASE("EC PARAMETERS then EC PRIVATE KEY (openssl ecparam -genkey)") {
    openssl_ok({"ecparam", "-name", "prime256v1", "-genkey", "-out", dir.file("ec.pem")});
    std::string pem = read_file(dir.file("ec.pem"));
    auto blocks = pki::parse_pem(pem);
    REQUIRE(blocks.size() == 2);  // the case this test is about
    CHECK(blocks[0].label == "EC PARAMETERS");
    CHECK(blocks[1].label == "EC PRIVATE KEY");
    auto key = pki::PrivateKey::from_pem(pem);
    CHECK(key.spec().name() == "ecdsa-p256");
    CHECK(key.public_key() == cli_public_key(dir, dir.file("ec.pem")));
  }
  SUBCASE("EC PRIVATE KEY alone, P-384") {
    openssl_ok({"ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", dir.file("ec.pem")});
    std::string pem = read_file(dir.file("ec.pem"));
    REQUIRE(pki::parse_pem(pem).size() == 1);
    CHECK(pki::parse_pem(pem)[0].label == "EC PRIVATE KEY");
    auto key = pki::PrivateKey::from_pem(pem);
    CHECK(key.spec().name() == "ecdsa-p384");
    CHECK(key.public_key() == cli_public_key(dir, dir.file("ec.pem")));
  }
  SUBCASE("RSA PRIVATE KEY (PKCS#1, as genrsa -traditional writes)") {
    // Converting the shared key is as good a witness as `genrsa -traditional`, and seconds faster.
    write_file(dir.file("p8.pem"), testing::shared_rsa2048().pkcs8_pem());
    openssl_ok({"rsa", "-in", dir.file("p8.pem"), "-traditional", "-out", dir.file("rsa.pem")});
    std::string pem = read_file(dir.file("rsa.pem"));
    REQUIRE(pki::parse_pem(pem).size() == 1);
    CHECK(pki::parse_pem(pem)[0].label == "RSA PRIVATE KEY");
    auto key = pki::PrivateKey::from_pem(pem);
    CHECK(key.spec().name() == "rsa-2048");
    CHECK(key.matches(testing::shared_rsa2048().public_key()));
    CHECK(key.public_key() == cli_public_key(dir, dir.file("rsa.pem")));
    CHECK(key.pkcs8_der() == testing::shared_rsa2048().pkcs8_der());
  }
  SUBCASE("PKCS#8 written by the CLI") {
    openssl_ok({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", dir.file("p8.pem")});
    std::string pem = read_file(dir.file("p8.pem"));
    CHECK(pki::parse_pem(pem)[0].label == "PRIVATE KEY");
    auto key = pki::PrivateKey::from_pem(pem);
    CHECK(key.public_key() == cli_public_key(dir, dir.file("p8.pem")));
    CHECK(key.pkcs8_pem() == pem);  // OpenSSL's CLI writes canonical PEM too
  }
}

TEST_CASE("pki.key: from_pem takes the first key of several") {
  auto a = pki::PrivateKey::generate(KeySpec::parse("ecdsa-p256"));
  auto b = pki::PrivateKey::generate(KeySpec::parse("ecdsa-p256"));
  auto key = pki::PrivateKey::from_pem(a.pkcs8_pem() + b.pkcs8_pem());
  CHECK(key.matches(a.public_key()));
  CHECK_FALSE(key.matches(b.public_key()));
}

TEST_CASE("pki.key: from_pem refuses encrypted keys without echoing key material") {
  testing::TempDir dir;
  auto key = pki::PrivateKey::generate(KeySpec::parse("ecdsa-p256"));
  std::string plain = key.pkcs8_pem();
  write_file(dir.file("plain.pem"), plain);

  SUBCASE("ENCRYPTED PRIVATE KEY (PKCS#8)") {
    openssl_ok({"pkcs8", "-topk8", "-in", dir.file("plain.pem"), "-v2", "aes-256-cbc", "-passout", "pass:hunter2",
                "-out", dir.file("enc.pem")});
    std::string enc = read_file(dir.file("enc.pem"));
    REQUIRE(pki::parse_pem(enc)[0].label == "ENCRYPTED PRIVATE KEY");
    std::string msg = error_of([&] { pki::PrivateKey::from_pem(enc); });
    CHECK(msg.find("encrypted") != std::string::npos);
    CHECK(longest_b64_run(msg) < 16);
  }
  SUBCASE("traditional EC PRIVATE KEY with Proc-Type/DEK-Info headers") {
    openssl_ok({"ec", "-in", dir.file("plain.pem"), "-aes256", "-passout", "pass:hunter2", "-out", dir.file("enc.pem")});
    std::string enc = read_file(dir.file("enc.pem"));
    REQUIRE(enc.find("Proc-Type: 4,ENCRYPTED") != std::string::npos);
    std::string msg = error_of([&] { pki::PrivateKey::from_pem(enc); });
    CHECK(msg.find("encrypted") != std::string::npos);
    CHECK(longest_b64_run(msg) < 16);
  }
  SUBCASE("a key block holding garbage") {
    pki::Bytes junk = key.pkcs8_der();
    junk.resize(junk.size() / 2);  // a truncated real key: the secret half must not leak either
    std::string msg = error_of([&] { pki::PrivateKey::from_pem(pki::to_pem("PRIVATE KEY", junk)); });
    CHECK(longest_b64_run(msg) < 16);
    msg = error_of([&] { pki::PrivateKey::from_pem(pki::to_pem("EC PRIVATE KEY", junk)); });
    CHECK(longest_b64_run(msg) < 16);
    CHECK_THROWS_AS(pki::PrivateKey::from_pkcs8_der(junk), pki::Error);
  }
  SUBCASE("no key block") {
    CHECK_THROWS_AS(pki::PrivateKey::from_pem(pki::to_pem("CERTIFICATE", key.public_key().der())), pki::Error);
    CHECK_THROWS_AS(pki::PrivateKey::from_pem(pki::to_pem("EC PARAMETERS", pki::Bytes{0x06, 0x01, 0x00})), pki::Error);
    CHECK_THROWS_AS(pki::PrivateKey::from_pem("not pem"), pki::Error);
  }
}

TEST_CASE("pki.key: PublicKey::spec refuses algorithms meshtrust does not issue with") {
  testing::TempDir dir;
  auto spec_error = [&](const std::vector<std::string>& genpkey_args) {
    std::vector<std::string> args{"genpkey"};
    args.insert(args.end(), genpkey_args.begin(), genpkey_args.end());
    args.insert(args.end(), {"-out", dir.file("k.pem")});
    openssl_ok(args);
    auto key = pki::PrivateKey::from_pem(read_file(dir.file("k.pem")));  // parsing is fine
    CHECK_THROWS_AS(key.public_key().spec(), pki::Error);
  };
  SUBCASE("ECDSA P-521") { spec_error({"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"}); }
  SUBCASE("Ed25519") { spec_error({"-algorithm", "ED25519"}); }
  SUBCASE("RSA 1024") { spec_error({"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"}); }
}

TEST_CASE("pki.key: matches() tells keys apart") {
  auto ec1 = pki::PrivateKey::generate(KeySpec::parse("ecdsa-p256"));
  auto ec2 = pki::PrivateKey::generate(KeySpec::parse("ecdsa-p256"));
  auto ec384 = pki::PrivateKey::generate(KeySpec::parse("ecdsa-p384"));
  const auto& rsa = testing::shared_rsa2048();
  CHECK(ec1.matches(ec1.public_key()));
  CHECK(ec1.matches(pki::PublicKey::from_der(ec1.public_key().der())));
  CHECK_FALSE(ec1.matches(ec2.public_key()));
  CHECK_FALSE(ec1.matches(ec384.public_key()));
  CHECK_FALSE(ec1.matches(rsa.public_key()));
  CHECK_FALSE(rsa.matches(ec1.public_key()));
  CHECK(rsa.matches(rsa.public_key()));
}

TEST_CASE("pki.key: sign_sha256 and verify_sha256, with the openssl CLI as the other side") {
  testing::TempDir dir;
  const std::string data = "meshtrust audit head 42";
  write_file(dir.file("data"), data);
  auto ec = pki::PrivateKey::generate(KeySpec::parse("ecdsa-p384"));
  const auto& rsa = testing::shared_rsa2048();

  for (const pki::PrivateKey* key : std::initializer_list<const pki::PrivateKey*>{&ec, &rsa}) {
    CAPTURE(key->spec().name());
    auto pub = key->public_key();
    pki::Bytes sig = key->sign_sha256(pki::as_bytes(data));
    CHECK(pki::verify_sha256(pub, pki::as_bytes(data), sig));

    // Any flipped bit, in the signature or the data, fails.
    for (size_t i : {size_t{0}, sig.size() / 2, sig.size() - 1}) {
      pki::Bytes bad = sig;
      bad[i] ^= 0x01;
      CHECK_FALSE(pki::verify_sha256(pub, pki::as_bytes(data), bad));
    }
    std::string other = data;
    other.back() ^= 0x01;
    CHECK_FALSE(pki::verify_sha256(pub, pki::as_bytes(other), sig));
    CHECK_FALSE(pki::verify_sha256(pub, pki::as_bytes(data), pki::Bytes{}));
    pki::Bytes truncated(sig.begin(), sig.end() - 1);
    CHECK_FALSE(pki::verify_sha256(pub, pki::as_bytes(data), truncated));
    // Another key's public half does not verify it.
    auto stranger = pki::PrivateKey::generate(KeySpec::parse("ecdsa-p384"));
    CHECK_FALSE(pki::verify_sha256(stranger.public_key(), pki::as_bytes(data), sig));

    // Oracle: `openssl dgst -sha256 -verify` accepts our signature and refuses a flipped one.
    write_file(dir.file("pub.pem"), pub.pem());
    write_file(dir.file("sig"), std::string(pki::as_chars(sig)));
    auto ok = openssl_cli({"dgst", "-sha256", "-verify", dir.file("pub.pem"), "-signature", dir.file("sig"), dir.file("data")});
    CHECK(ok.status == 0);
    CHECK(ok.out.find("Verified OK") != std::string::npos);
    pki::Bytes bad = sig;
    bad[sig.size() / 2] ^= 0x80;
    write_file(dir.file("sig"), std::string(pki::as_chars(bad)));
    auto no = openssl_cli({"dgst", "-sha256", "-verify", dir.file("pub.pem"), "-signature", dir.file("sig"), dir.file("data")});
    CHECK(no.status != 0);

    // And the CLI's signature verifies here.
    write_file(dir.file("key.pem"), key->pkcs8_pem());
    openssl_ok({"dgst", "-sha256", "-sign", dir.file("key.pem"), "-out", dir.file("cli.sig"), dir.file("data")});
    std::string cli_sig = read_file(dir.file("cli.sig"));
    CHECK(pki::verify_sha256(pub, pki::as_bytes(data), pki::as_bytes(cli_sig)));
  }
  // RSA PKCS#1 v1.5 is deterministic and as long as the modulus; ECDSA is randomised.
  CHECK(rsa.sign_sha256(pki::as_bytes(data)) == rsa.sign_sha256(pki::as_bytes(data)));
  CHECK(rsa.sign_sha256(pki::as_bytes(data)).size() == 256);
  CHECK(ec.sign_sha256(pki::as_bytes(data)) != ec.sign_sha256(pki::as_bytes(data)));
}
