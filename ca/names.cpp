#include "ca/names.h"

#include <string>

#include "ca/errors.h"

namespace meshtrust::ca {

namespace {
bool alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
}  // namespace

bool is_dns1123_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!alnum_lower(s.front()) || !alnum_lower(s.back())) return false;
  for (char c : s)
    if (!alnum_lower(c) && c != '-') return false;
  return true;
}

bool is_dns1123_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_dns1123_label(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string quoted(std::string_view s) {
  std::string out = "'";
  size_t n = 0;
  for (unsigned char c : s) {
    if (++n > 64) {
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

std::string unregistered_cluster_message(std::string_view name) {
  return "cluster '" + std::string(name) + "' is not registered; add it with 'meshtrust cluster add " + std::string(name) + "'";
}

void require_cluster_name(std::string_view name) {
  if (!is_dns1123_label(name))
    throw invalid("cluster name " + quoted(name) +
                  " is not a DNS-1123 label (1-63 lowercase letters, digits or '-', starting and ending with a letter or digit)");
}

void require_namespace(std::string_view ns, std::string_view what) {
  if (!is_dns1123_label(ns))
    throw invalid(std::string(what) + " " + quoted(ns) +
                  " is not a DNS-1123 label (1-63 lowercase letters, digits or '-', starting and ending with a letter or digit)");
}

void require_subdomain(std::string_view s, std::string_view what) {
  if (!is_dns1123_subdomain(s))
    throw invalid(std::string(what) + " " + quoted(s) + " is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')");
}

}  // namespace meshtrust::ca
