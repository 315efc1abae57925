#include "pki/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "pki/error.h"
#include "pki/handles.h"

namespace meshtrust::pki {

namespace {
constexpr size_t kNonceLen = 12;
constexpr size_t kTagLen = 16;
using KdfPtr = std::unique_ptr<EVP_KDF, Deleter<EVP_KDF_free>>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, Deleter<EVP_KDF_CTX_free>>;
}  // namespace

Sha256Digest sha256(ByteView data) { return sha256({data}); }

namespace {
using MdPtr = std::unique_ptr<EVP_MD, Deleter<EVP_MD_free>>;
// The audit log hashes millions of small inputs: fetch the implementation once per process and
// reuse one context per thread, instead of a provider look-up and an allocation per hash.
const EVP_MD* sha256_md() {
  static const MdPtr md(check_ptr(EVP_MD_fetch(nullptr, "SHA2-256", nullptr), "fetch SHA-256"));
  return md.get();
}
EVP_MD_CTX* thread_md_ctx() {
  thread_local MdCtxPtr ctx(check_ptr(EVP_MD_CTX_new(), "allocate digest context"));
  return ctx.get();
}
}  // namespace

Sha256Digest sha256(std::initializer_list<ByteView> parts) {
  EVP_MD_CTX* ctx = thread_md_ctx();
  check(EVP_DigestInit_ex2(ctx, sha256_md(), nullptr), "start SHA-256");
  for (auto part : parts) check(EVP_DigestUpdate(ctx, part.data(), part.size()), "hash");
  Sha256Digest out{};
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(ctx, out.data(), &len), "finish SHA-256");
  return out;
}

Bytes random_bytes(size_t n) {
  Bytes out(n);
  check(RAND_bytes(out.data(), static_cast<int>(n)), "generate random bytes");
  return out;
}

bool constant_time_equal(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Bytes aes256gcm_seal(ByteView key, ByteView plaintext, ByteView aad) {
  if (key.size() != 32) throw Error("AES-256-GCM needs a 32-byte key");
  Bytes out(kNonceLen + plaintext.size() + kTagLen);
  check(RAND_bytes(out.data(), kNonceLen), "generate nonce");
  CipherCtxPtr ctx(check_ptr(EVP_CIPHER_CTX_new(), "allocate cipher context"));
  check(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), out.data()), "start encryption");
  int len = 0;
  if (!aad.empty()) check(EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())), "encrypt");
  check(EVP_EncryptUpdate(ctx.get(), out.data() + kNonceLen, &len, plaintext.data(), static_cast<int>(plaintext.size())),
        "encrypt");
  int tail = 0;
  check(EVP_EncryptFinal_ex(ctx.get(), out.data() + kNonceLen + len, &tail), "finish encryption");
  check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagLen, out.data() + kNonceLen + plaintext.size()),
        "read tag");
  return out;
}

Bytes aes256gcm_open(ByteView key, ByteView sealed, ByteView aad) {
  if (key.size() != 32) throw Error("AES-256-GCM needs a 32-byte key");
  if (sealed.size() < kNonceLen + kTagLen) throw Error("decryption failed: the sealed blob is truncated");
  const size_t ct_len = sealed.size() - kNonceLen - kTagLen;
  Bytes out(ct_len);
  CipherCtxPtr ctx(check_ptr(EVP_CIPHER_CTX_new(), "allocate cipher context"));
  check(EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), sealed.data()), "start decryption");
  int len = 0;
  if (!aad.empty()) check(EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())), "decrypt");
  check(EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data() + kNonceLen, static_cast<int>(ct_len)), "decrypt");
  Bytes tag(sealed.end() - kTagLen, sealed.end());
  check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagLen, tag.data()), "set tag");
  int tail = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &tail) != 1) {
    clear_openssl_errors();
    wipe(out);
    throw Error("decryption failed: wrong key-encryption key or altered data");
  }
  return out;
}

Bytes scrypt32(std::string_view passphrase, ByteView salt, const ScryptParams& params) {
  KdfPtr kdf(check_ptr(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr), "fetch scrypt"));
  KdfCtxPtr ctx(check_ptr(EVP_KDF_CTX_new(kdf.get()), "allocate scrypt context"));
  std::uint64_t n = params.n;
  std::uint32_t r = params.r, p = params.p;
  std::uint64_t maxmem = 1ull << 30;
  OSSL_PARAM ps[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(passphrase.data()), passphrase.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end()};
  Bytes out(32);
  check(EVP_KDF_derive(ctx.get(), out.data(), out.size(), ps), "derive key with scrypt");
  return out;
}

void wipe(Bytes& b) {
  if (!b.empty()) OPENSSL_cleanse(b.data(), b.size());
  b.clear();
}

}  // namespace meshtrust::pki
