// Hashing, authenticated encryption, key derivation and randomness: the primitives that
// protect keys at rest and chain the audit log. Buffers in, buffers out; no I/O.
#pragma once

#include <array>
#include <cstdint>

#include "pki/encoding.h"

namespace meshtrust::pki {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(ByteView data);
// SHA-256 over the concatenation of several buffers (the Merkle tree's 0x00/0x01 prefixes).
Sha256Digest sha256(std::initializer_list<ByteView> parts);

Bytes random_bytes(size_t n);
bool constant_time_equal(ByteView a, ByteView b);

// AES-256-GCM with a fresh random 96-bit nonce per call. `aad` binds the ciphertext to its
// context (a key id, a purpose) so that sealed blobs cannot be swapped between rows.
// Output: nonce(12) || ciphertext || tag(16).
Bytes aes256gcm_seal(ByteView key, ByteView plaintext, ByteView aad);
// Throws pki::Error("decryption failed ...") if the key is wrong or the blob was altered.
Bytes aes256gcm_open(ByteView key, ByteView sealed, ByteView aad);

struct ScryptParams {
  std::uint64_t n = 1u << 15;
  std::uint32_t r = 8;
  std::uint32_t p = 1;
};
// Derives a 32-byte key from a passphrase (RFC 7914).
Bytes scrypt32(std::string_view passphrase, ByteView salt, const ScryptParams& params);

// Overwrites a buffer that held secret bytes.
void wipe(Bytes& b);

}  // namespace meshtrust::pki
