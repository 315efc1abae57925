#include "ca/tokens.h"

#include "ca/errors.h"

namespace meshtrust::ca {

std::string to_string(Role r) {
  switch (r) {
    case Role::Admin: return "admin";
    case Role::Issuer: return "issuer";
    case Role::Auditor: return "auditor";
    case Role::Cluster: return "cluster";
  }
  return "unknown";
}

Role role_from(const std::string& s) {
  if (s == "admin") return Role::Admin;
  if (s == "issuer") return Role::Issuer;
  if (s == "auditor") return Role::Auditor;
  if (s == "cluster") return Role::Cluster;
  throw invalid("unknown role '" + s.substr(0, 20) + "' (accepted: admin, issuer, auditor, cluster)");
}

namespace {
bool all_hex(const std::string& s) { return s.find_first_not_of("0123456789abcdef") == std::string::npos; }
}  // namespace

std::optional<ParsedToken> parse_token(const std::string& token) {
  // mtk_ + 16 hex + _ + 64 hex
  if (token.size() != 4 + 16 + 1 + 64 || token.compare(0, 4, "mtk_") != 0 || token[20] != '_') return std::nullopt;
  ParsedToken p{token.substr(4, 16), token.substr(21)};
  if (!all_hex(p.id) || !all_hex(p.secret)) return std::nullopt;
  return p;
}

std::string format_token(const std::string& id, const std::string& secret) { return "mtk_" + id + "_" + secret; }

}  // namespace meshtrust::ca
