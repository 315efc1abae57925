// Byte buffers and their text forms: hex, base64, PEM blocks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace meshtrust::pki {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string to_hex(ByteView bytes);                 // lowercase
Bytes from_hex(std::string_view hex);               // throws pki::Error on bad input
std::string base64_encode(ByteView bytes);          // one line, no newlines
Bytes base64_decode(std::string_view text);         // throws pki::Error on bad input

// A PEM block: its label ("CERTIFICATE", "PRIVATE KEY", ...) and decoded body.
struct PemBlock {
  std::string label;
  Bytes der;
};
// Every PEM block in `text`, in order. Text outside blocks is ignored (as OpenSSL does).
// Throws pki::Error if a block is malformed or there is none.
std::vector<PemBlock> parse_pem(std::string_view text);
// Canonical PEM: base64 of the DER in 64-column lines, "\n" line ends.
std::string to_pem(std::string_view label, ByteView der);

}  // namespace meshtrust::pki
