// Bearer tokens for the REST API: 256-bit random secrets, shown once, stored only as SHA-256
// hashes and compared in constant time. A token carries a role (and, for a cluster, its name).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace meshtrust::ca {

enum class Role { Admin, Issuer, Auditor, Cluster };

std::string to_string(Role r);
Role role_from(const std::string& s);  // throws ca::Error(InvalidRequest) naming the accepted roles

// Who is asking. `actor()` is what audit events record: "admin:alice", "cluster:c1".
struct Principal {
  Role role = Role::Auditor;
  std::string name;  // the token's name, or the cluster's name for Role::Cluster
  std::string token_id;            // the bearer token's id, when a token authenticated it
  std::string certificate_serial;  // the client certificate's serial, when one did
  std::string actor() const { return to_string(role) + ":" + name; }
};

struct TokenRecord {
  std::string id;  // public part, 16 hex digits
  Role role = Role::Auditor;
  std::string name;
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> expires_at_ms;
  bool revoked = false;
  std::string secret_hash;  // hex SHA-256 of the secret part; never the secret
};

// "mtk_<id>_<secret>": the id finds the record, the secret is checked against its hash.
struct ParsedToken {
  std::string id, secret;
};
std::optional<ParsedToken> parse_token(const std::string& token);
std::string format_token(const std::string& id, const std::string& secret);

}  // namespace meshtrust::ca
