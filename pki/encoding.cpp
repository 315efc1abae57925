#include "pki/encoding.h"

#include <openssl/evp.h>

#include "pki/error.h"

namespace meshtrust::pki {

std::string to_hex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Bytes from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) throw Error("hex string has an odd number of digits");
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) throw Error("hex string contains a non-hex character");
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string base64_encode(ByteView bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Bytes base64_decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
    if (!ok) throw Error("base64 text contains an invalid character");
    clean.push_back(c);
  }
  if (auto eq = clean.find('=');
      eq != std::string::npos && (eq + 2 < clean.size() || clean.find_first_not_of('=', eq) != std::string::npos))
    throw Error("base64 text has '=' before its end");
  if (clean.size() % 4 != 0) throw Error("base64 text has a length that is not a multiple of 4");
  Bytes out(clean.size() / 4 * 3);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) throw Error("base64 text does not decode");
  // EVP_DecodeBlock does not strip padding; remove one byte per '='.
  size_t pad = 0;
  if (!clean.empty() && clean.back() == '=') ++pad;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::vector<PemBlock> parse_pem(std::string_view text) {
  static constexpr std::string_view kBegin = "-----BEGIN ";
  static constexpr std::string_view kEnd = "-----END ";
  static constexpr std::string_view kDashes = "-----";
  std::vector<PemBlock> blocks;
  size_t pos = 0;
  while ((pos = text.find(kBegin, pos)) != std::string_view::npos) {
    size_t label_start = pos + kBegin.size();
    size_t label_end = text.find(kDashes, label_start);
    if (label_end == std::string_view::npos) throw Error("PEM header is not terminated");
    std::string label(text.substr(label_start, label_end - label_start));
    if (label.empty() || label.size() > 64 || label.find('\n') != std::string::npos) throw Error("PEM header is malformed");
    size_t body_start = label_end + kDashes.size();
    std::string end_marker = std::string(kEnd) + label + std::string(kDashes);
    size_t body_end = text.find(end_marker, body_start);
    if (body_end == std::string_view::npos) throw Error("PEM block '" + label + "' has no matching END line");
    std::string_view body = text.substr(body_start, body_end - body_start);
    if (body.find(':') != std::string_view::npos) throw Error("PEM block '" + label + "' is encrypted or has headers, which are not supported");
    Bytes der = base64_decode(body);
    if (der.empty()) throw Error("PEM block '" + label + "' is empty");
    blocks.push_back({std::move(label), std::move(der)});
    pos = body_end + end_marker.size();
  }
  if (blocks.empty()) throw Error("no PEM block found");
  return blocks;
}

std::string to_pem(std::string_view label, ByteView der) {
  std::string b64 = base64_encode(der);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) {
    out.append(b64, i, 64);
    out.push_back('\n');
  }
  out += "-----END " + std::string(label) + "-----\n";
  return out;
}

}  // namespace meshtrust::pki
