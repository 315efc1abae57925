// pki/encoding.h: hex, base64 and PEM, against fixed vectors (RFC 4648 §10) and malformed input.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pki/encoding.h"
#include "pki/error.h"

using namespace meshtrust;
using pki::Bytes;

namespace {

std::string str_of(const Bytes& b) { return std::string(pki::as_chars(b)); }

// Every byte value 0..255, twice, so that all base64 alphabet positions and paddings occur.
Bytes all_bytes() {
  Bytes b;
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 256; ++i) b.push_back(static_cast<std::uint8_t>(i));
  return b;
}

}  // namespace

TEST_CASE("pki.encoding: hex round trip and known values") {
  CHECK(pki::to_hex(Bytes{}) == "");
  CHECK(pki::to_hex(Bytes{0x00, 0x0f, 0xa0, 0xff}) == "000fa0ff");
  CHECK(pki::from_hex("000fa0ff") == Bytes{0x00, 0x0f, 0xa0, 0xff});
  CHECK(pki::from_hex("DEADbeef") == Bytes{0xde, 0xad, 0xbe, 0xef});
  CHECK(pki::from_hex("").empty());
  Bytes all = all_bytes();
  std::string hex = pki::to_hex(all);
  CHECK(hex.size() == all.size() * 2);
  CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos);  // lowercase only
  CHECK(pki::from_hex(hex) == all);
}

TEST_CASE("pki.encoding: from_hex refuses odd length and non-hex characters") {
  CHECK_THROWS_AS(pki::from_hex("abc"), pki::Error);
  CHECK_THROWS_AS(pki::from_hex("0"), pki::Error);
  CHECK_THROWS_AS(pki::from_hex("0g"), pki::Error);
  CHECK_THROWS_AS(pki::from_hex("g0"), pki::Error);
  CHECK_THROWS_AS(pki::from_hex("00 1"), pki::Error);
  CHECK_THROWS_AS(pki::from_hex("0x00"), pki::Error);
  CHECK_THROWS_AS(pki::from_hex(std::string("0\0", 2)), pki::Error);
}

TEST_CASE("pki.encoding: base64 matches RFC 4648 test vectors both ways") {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    CAPTURE(plain);
    CHECK(pki::base64_encode(pki::as_bytes(plain)) == encoded);
    CHECK(str_of(pki::base64_decode(encoded)) == plain);
  }
  // The whole alphabet, and binary data including NULs and 0xff.
  CHECK(pki::base64_encode(Bytes{0xfb, 0xff, 0xbf}) == "+/+/");
  Bytes all = all_bytes();
  for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{255}, size_t{256}, size_t{257}, all.size()}) {
    CAPTURE(n);
    Bytes part(all.begin(), all.begin() + static_cast<long>(n));
    std::string enc = pki::base64_encode(part);
    CHECK(enc.find('\n') == std::string::npos);  // one line
    CHECK(enc.size() == 4 * ((n + 2) / 3));
    CHECK(pki::base64_decode(enc) == part);
  }
}

TEST_CASE("pki.encoding: base64_decode skips line breaks and refuses bad input") {
  CHECK(str_of(pki::base64_decode("Zm9v\nYmFy\r\n")) == "foobar");
  CHECK(str_of(pki::base64_decode("Zm9v YmE=")) == "fooba");
  CHECK_THROWS_AS(pki::base64_decode("Zm9"), pki::Error);        // not a multiple of 4
  CHECK_THROWS_AS(pki::base64_decode("Zm9vY"), pki::Error);
  CHECK_THROWS_AS(pki::base64_decode("Zm9v!mFy"), pki::Error);   // not in the alphabet
  CHECK_THROWS_AS(pki::base64_decode("Zm9v-_Fy"), pki::Error);   // base64url is not base64
  CHECK_THROWS_AS(pki::base64_decode("Zm9vYmF\xc3\xa9"), pki::Error);
  CHECK_THROWS_AS(pki::base64_decode(std::string("Zm9v\0\0\0\0", 8)), pki::Error);
}

TEST_CASE("pki.encoding: base64_decode accepts '=' only as final padding") {
  // Bytes after padding, or more than two '=', are not base64; a lenient decoder would read
  // "QQ==QUJD" as "A\0\0ABC".
  CHECK_THROWS_AS(pki::base64_decode("QQ==QUJD"), pki::Error);
  CHECK_THROWS_AS(pki::base64_decode("Q==="), pki::Error);
  CHECK_THROWS_AS(pki::base64_decode("===="), pki::Error);
  CHECK_THROWS_AS(pki::base64_decode("QQ=A"), pki::Error);
}

namespace {

const std::string kCertBody = "MIIBszCCAVmgAwIBAgIUAuW0\n";  // not a real certificate: PEM does not care
std::string block(const std::string& label, const std::string& body) {
  return "-----BEGIN " + label + "-----\n" + body + "-----END " + label + "-----\n";
}

}  // namespace

TEST_CASE("pki.encoding: parse_pem returns every block in order and ignores text around them") {
  std::string text = "Bag Attributes: friendlyName: x\nsubject=/CN=first\n" + block("CERTIFICATE", "Zm9v\n") +
                     "some prose between blocks\n\n" + block("PRIVATE KEY", "YmFy\n") + "\n" +
                     block("CERTIFICATE", "Zm9vYmFy\n") + "trailing text";
  auto blocks = pki::parse_pem(text);
  REQUIRE(blocks.size() == 3);
  CHECK(blocks[0].label == "CERTIFICATE");
  CHECK(str_of(blocks[0].der) == "foo");
  CHECK(blocks[1].label == "PRIVATE KEY");
  CHECK(str_of(blocks[1].der) == "bar");
  CHECK(blocks[2].label == "CERTIFICATE");
  CHECK(str_of(blocks[2].der) == "foobar");
}

TEST_CASE("pki.encoding: parse_pem reads CRLF line ends and any line width") {
  std::string text = "-----BEGIN X-----\r\nZm9v\r\nYmFy\r\n-----END X-----\r\n";
  auto blocks = pki::parse_pem(text);
  REQUIRE(blocks.size() == 1);
  CHECK(str_of(blocks[0].der) == "foobar");
  // No trailing newline after the END line.
  auto b2 = pki::parse_pem("-----BEGIN X-----\nZm9vYmFy\n-----END X-----");
  REQUIRE(b2.size() == 1);
  CHECK(str_of(b2[0].der) == "foobar");
}

TEST_CASE("pki.encoding: parse_pem refuses malformed blocks") {
  SUBCASE("no block at all") {
    CHECK_THROWS_AS(pki::parse_pem(""), pki::Error);
    CHECK_THROWS_AS(pki::parse_pem("just some text\nZm9vYmFy\n"), pki::Error);
  }
  SUBCASE("missing END line") {
    CHECK_THROWS_AS(pki::parse_pem("-----BEGIN CERTIFICATE-----\nZm9v\n"), pki::Error);
    // An END line for a different label does not close the block.
    CHECK_THROWS_AS(pki::parse_pem("-----BEGIN CERTIFICATE-----\nZm9v\n-----END PRIVATE KEY-----\n"), pki::Error);
    // A good block after a bad one does not rescue the text.
    CHECK_THROWS_AS(pki::parse_pem(block("A", "Zm9v\n") + "-----BEGIN B-----\nZm9v\n"), pki::Error);
  }
  SUBCASE("unterminated BEGIN line") {
    CHECK_THROWS_AS(pki::parse_pem("-----BEGIN CERTIFICATE\nZm9v\n"), pki::Error);
  }
  SUBCASE("encrypted PEM headers are refused") {
    std::string enc = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nZm9vYmFy\n-----END RSA PRIVATE KEY-----\n";
    try {
      pki::parse_pem(enc);
      FAIL("encrypted PEM was accepted");
    } catch (const pki::Error& e) {
      CHECK(std::string(e.what()).find("encrypted") != std::string::npos);
    }
  }
  SUBCASE("empty body") {
    CHECK_THROWS_AS(pki::parse_pem("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), pki::Error);
    CHECK_THROWS_AS(pki::parse_pem("-----BEGIN CERTIFICATE-----\n\n  \n-----END CERTIFICATE-----\n"), pki::Error);
  }
  SUBCASE("body that is not base64") {
    CHECK_THROWS_AS(pki::parse_pem(block("CERTIFICATE", "Zm9v*mFy\n")), pki::Error);
    CHECK_THROWS_AS(pki::parse_pem(block("CERTIFICATE", "Zm9vYmF\n")), pki::Error);
  }
  SUBCASE("empty label") {
    CHECK_THROWS_AS(pki::parse_pem("-----BEGIN -----\nZm9v\n-----END -----\n"), pki::Error);
  }
}

TEST_CASE("pki.encoding: to_pem writes 64-column base64 with \\n line ends") {
  Bytes all = all_bytes();  // 512 bytes -> 684 base64 chars -> 10 full lines and one of 44
  std::string pem = pki::to_pem("CERTIFICATE", all);
  CHECK(pem.find('\r') == std::string::npos);
  CHECK(pem.rfind("-----BEGIN CERTIFICATE-----\n", 0) == 0);
  CHECK(pem.size() >= 26);
  CHECK(pem.substr(pem.size() - 26) == "-----END CERTIFICATE-----\n");
  std::vector<std::string> lines;
  size_t start = 0, nl;
  while ((nl = pem.find('\n', start)) != std::string::npos) {
    lines.push_back(pem.substr(start, nl - start));
    start = nl + 1;
  }
  CHECK(start == pem.size());  // ends with "\n"
  REQUIRE(lines.size() == 13);  // BEGIN, 11 body lines, END
  for (size_t i = 1; i + 2 < lines.size(); ++i) CHECK(lines[i].size() == 64);
  CHECK(lines[11].size() == 684 - 10 * 64);
  std::string body;
  for (size_t i = 1; i + 1 < lines.size(); ++i) body += lines[i];
  CHECK(body == pki::base64_encode(all));

  // Exactly 48 bytes -> one full line, no empty line after it.
  Bytes b48(48, 0x5a);
  CHECK(pki::to_pem("X", b48) == "-----BEGIN X-----\n" + pki::base64_encode(b48) + "\n-----END X-----\n");

  // And parse_pem reads back what to_pem wrote.
  auto blocks = pki::parse_pem(pem + pki::to_pem("PRIVATE KEY", b48));
  REQUIRE(blocks.size() == 2);
  CHECK(blocks[0].label == "CERTIFICATE");
  CHECK(blocks[0].der == all);
  CHECK(blocks[1].label == "PRIVATE KEY");
  CHECK(blocks[1].der == b48);
}
