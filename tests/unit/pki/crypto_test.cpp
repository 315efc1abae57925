// pki/crypto.h against published vectors (FIPS 180-2, the GCM spec, RFC 7914) and tampering.
#include <doctest/doctest.h>

#include <string>

#include "pki/crypto.h"
#include "pki/error.h"

using namespace meshtrust;
using pki::Bytes;

namespace {

std::string hex(const pki::Sha256Digest& d) { return pki::to_hex(d); }
Bytes key32(std::uint8_t fill = 0x42) { return Bytes(32, fill); }
Bytes bytes_of(std::string_view s) {
  auto v = pki::as_bytes(s);
  return Bytes(v.begin(), v.end());
}

}  // namespace

TEST_CASE("pki.crypto: sha256 known vectors") {
  CHECK(hex(pki::sha256(pki::as_bytes("abc"))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(pki::sha256(pki::as_bytes(""))) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex(pki::sha256(pki::as_bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // The same digest twice in a row (the per-thread context is reset between calls).
  CHECK(pki::sha256(pki::as_bytes("abc")) == pki::sha256(pki::as_bytes("abc")));
}

TEST_CASE("pki.crypto: sha256 over parts equals sha256 over their concatenation") {
  std::string a = std::string(1, '\0'), b = "left", c = std::string(100, 'x'), d;
  auto whole = pki::sha256(pki::as_bytes(a + b + c + d));
  CHECK(pki::sha256({pki::as_bytes(a), pki::as_bytes(b), pki::as_bytes(c), pki::as_bytes(d)}) == whole);
  CHECK(pki::sha256({pki::as_bytes(a + b), pki::as_bytes(c)}) == whole);
  CHECK(pki::sha256({pki::as_bytes(a + b + c)}) == whole);
  CHECK(pki::sha256({pki::as_bytes("a"), pki::as_bytes("bc")}) == pki::sha256(pki::as_bytes("abc")));
  // Order matters.
  CHECK(pki::sha256({pki::as_bytes(b), pki::as_bytes(a), pki::as_bytes(c)}) != whole);
  CHECK(pki::sha256(std::initializer_list<pki::ByteView>{}) == pki::sha256(pki::as_bytes("")));
}

TEST_CASE("pki.crypto: aes256gcm_open decrypts the GCM spec's AES-256 vectors") {
  // McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13 and 14: K = 0^256,
  // IV = 0^96; P empty (13) or 0^128 (14).
  Bytes zero_key(32, 0), nonce(12, 0);
  Bytes tc13 = nonce;
  Bytes tag13 = pki::from_hex("530f8afbc74536b9a963b4f1c4cb738b");
  tc13.insert(tc13.end(), tag13.begin(), tag13.end());
  CHECK(pki::aes256gcm_open(zero_key, tc13, {}).empty());

  Bytes tc14 = nonce;
  Bytes ct14 = pki::from_hex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
  tc14.insert(tc14.end(), ct14.begin(), ct14.end());
  CHECK(pki::aes256gcm_open(zero_key, tc14, {}) == Bytes(16, 0));
}

TEST_CASE("pki.crypto: aes256gcm seal/open round trip with a fresh nonce per call") {
  Bytes key = key32();
  const std::string aad = "kek:v1|intermediate-key:0a1b";
  for (size_t n : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{4096}}) {
    CAPTURE(n);
    Bytes plain(n);
    for (size_t i = 0; i < n; ++i) plain[i] = static_cast<std::uint8_t>(i * 7 + 3);
    Bytes sealed = pki::aes256gcm_seal(key, plain, pki::as_bytes(aad));
    CHECK(sealed.size() == 12 + n + 16);
    CHECK(pki::aes256gcm_open(key, sealed, pki::as_bytes(aad)) == plain);
    if (n >= 16) {
      // The ciphertext is not the plaintext.
      CHECK(Bytes(sealed.begin() + 12, sealed.begin() + 12 + static_cast<long>(n)) != plain);
    }
  }
  // Same key, plaintext and aad: two seals differ, starting with the nonce.
  Bytes plain = bytes_of("the same secret twice");
  Bytes s1 = pki::aes256gcm_seal(key, plain, pki::as_bytes(aad));
  Bytes s2 = pki::aes256gcm_seal(key, plain, pki::as_bytes(aad));
  CHECK(s1 != s2);
  CHECK(Bytes(s1.begin(), s1.begin() + 12) != Bytes(s2.begin(), s2.begin() + 12));
  // Empty aad is a context of its own.
  Bytes s3 = pki::aes256gcm_seal(key, plain, {});
  CHECK(pki::aes256gcm_open(key, s3, {}) == plain);
  CHECK_THROWS_AS(pki::aes256gcm_open(key, s3, pki::as_bytes(aad)), pki::Error);
}

TEST_CASE("pki.crypto: aes256gcm_open refuses altered blobs, the wrong aad and the wrong key") {
  Bytes key = key32();
  Bytes plain = bytes_of("-----BEGIN PRIVATE KEY-----\nnot really\n-----END PRIVATE KEY-----\n");
  const std::string aad = "row 7";
  Bytes sealed = pki::aes256gcm_seal(key, plain, pki::as_bytes(aad));
  REQUIRE(pki::aes256gcm_open(key, sealed, pki::as_bytes(aad)) == plain);

  auto refused = [&](const Bytes& k, const Bytes& blob, std::string_view ad) {
    try {
      pki::aes256gcm_open(k, blob, pki::as_bytes(ad));
    } catch (const pki::Error& e) {
      CHECK(std::string(e.what()).find("decryption failed") != std::string::npos);
      return true;
    }
    return false;
  };
  SUBCASE("a flipped bit anywhere: nonce, ciphertext, tag") {
    for (size_t i : {size_t{0}, size_t{11}, size_t{12}, sealed.size() / 2, sealed.size() - 17, sealed.size() - 16,
                     sealed.size() - 1}) {
      CAPTURE(i);
      Bytes bad = sealed;
      bad[i] ^= 0x01;
      CHECK(refused(key, bad, aad));
    }
  }
  SUBCASE("wrong aad") {
    CHECK(refused(key, sealed, "row 8"));
    CHECK(refused(key, sealed, ""));
  }
  SUBCASE("wrong key") {
    CHECK(refused(key32(0x43), sealed, aad));
    Bytes almost = key;
    almost[31] ^= 0x80;
    CHECK(refused(almost, sealed, aad));
  }
  SUBCASE("truncated or extended blob") {
    CHECK(refused(key, Bytes(sealed.begin(), sealed.end() - 1), aad));
    CHECK(refused(key, Bytes(sealed.begin(), sealed.begin() + 28), aad));
    CHECK(refused(key, Bytes(sealed.begin(), sealed.begin() + 27), aad));  // shorter than nonce + tag
    CHECK(refused(key, Bytes{}, aad));
    Bytes longer = sealed;
    longer.push_back(0);
    CHECK(refused(key, longer, aad));
  }
  SUBCASE("keys that are not 32 bytes") {
    CHECK_THROWS_AS(pki::aes256gcm_seal(Bytes(16, 1), plain, {}), pki::Error);
    CHECK_THROWS_AS(pki::aes256gcm_seal(Bytes(33, 1), plain, {}), pki::Error);
    CHECK_THROWS_AS(pki::aes256gcm_open(Bytes(31, 1), sealed, pki::as_bytes(aad)), pki::Error);
  }
}

TEST_CASE("pki.crypto: scrypt32 matches RFC 7914 section 12") {
  // N=1024, r=8, p=16: the first 32 bytes of the 64-byte vector.
  CHECK(pki::to_hex(pki::scrypt32("password", pki::as_bytes("NaCl"), {1024, 8, 16})) ==
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162");
  // N=16, r=1, p=1 with empty password and salt.
  CHECK(pki::to_hex(pki::scrypt32("", pki::as_bytes(""), {16, 1, 1})) ==
        "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442");
  // Each input matters.
  auto base = pki::scrypt32("pass", pki::as_bytes("salt"), {1024, 8, 1});
  CHECK(base.size() == 32);
  CHECK(pki::scrypt32("pass", pki::as_bytes("salt"), {1024, 8, 1}) == base);
  CHECK(pki::scrypt32("pasS", pki::as_bytes("salt"), {1024, 8, 1}) != base);
  CHECK(pki::scrypt32("pass", pki::as_bytes("salT"), {1024, 8, 1}) != base);
  CHECK(pki::scrypt32("pass", pki::as_bytes("salt"), {2048, 8, 1}) != base);
  // N must be a power of two greater than 1.
  CHECK_THROWS_AS(pki::scrypt32("pass", pki::as_bytes("salt"), {1000, 8, 1}), pki::Error);
}

TEST_CASE("pki.crypto: constant_time_equal, random_bytes and wipe") {
  Bytes a = bytes_of("0123456789abcdef"), b = a;
  CHECK(pki::constant_time_equal(a, b));
  b.back() ^= 0x01;
  CHECK_FALSE(pki::constant_time_equal(a, b));
  b = a;
  b.front() ^= 0x80;
  CHECK_FALSE(pki::constant_time_equal(a, b));
  CHECK_FALSE(pki::constant_time_equal(a, Bytes(a.begin(), a.end() - 1)));  // prefix
  CHECK_FALSE(pki::constant_time_equal(Bytes{}, a));
  CHECK(pki::constant_time_equal(Bytes{}, Bytes{}));

  Bytes r1 = pki::random_bytes(32), r2 = pki::random_bytes(32);
  CHECK(r1.size() == 32);
  CHECK(r1 != r2);
  CHECK(pki::random_bytes(0).empty());

  Bytes secret = bytes_of("secret");
  const std::uint8_t* p = secret.data();
  size_t cap = secret.capacity();
  pki::wipe(secret);
  CHECK(secret.empty());
  // The storage is still owned by the vector (clear() keeps capacity): it must hold zeros now.
  REQUIRE(secret.capacity() == cap);
  for (size_t i = 0; i < 6; ++i) CHECK(p[i] == 0);
}
