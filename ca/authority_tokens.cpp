// Bearer tokens: created with 256 bits from the CSPRNG, stored as SHA-256 hashes, checked in
// constant time, revocable, optionally expiring. Every create and revoke is an audit event.
#include "ca/authority.h"
#include "ca/authority_impl.h"
#include "pki/crypto.h"

namespace meshtrust::ca {

Authority::NewToken Authority::create_token(const std::string& actor, Role role, const std::string& name,
                                            std::optional<std::chrono::seconds> ttl) {
  require_principal_name(role, name, "token name");
  if (ttl && (ttl->count() < 60 || ttl->count() > 10LL * 365 * 86400))
    throw invalid("token lifetime must be between 1 minute and 10 years");
  auto tx = impl_->write();
  impl_->require_initialized(*tx);
  if (role == Role::Cluster) impl_->require_cluster(*tx, name);
  TokenRecord rec;
  rec.id = pki::to_hex(pki::random_bytes(8));
  std::string secret = pki::to_hex(pki::random_bytes(32));
  rec.role = role;
  rec.name = name;
  rec.created_at_ms = impl_->clock.now().time_since_epoch().count();
  if (ttl) rec.expires_at_ms = rec.created_at_ms + ttl->count() * 1000;
  rec.secret_hash = pki::to_hex(pki::sha256(pki::as_bytes(secret)));
  tx->tokens().insert(rec);
  nlohmann::json details = {{"token_id", rec.id}, {"role", to_string(role)}, {"name", name}};
  if (rec.expires_at_ms) details["expires_at"] = format_rfc3339_ms(*rec.expires_at_ms);
  impl_->commit(*tx, {{actor, "token.create", role == Role::Cluster ? std::optional<std::string>(name) : std::nullopt,
                       std::nullopt, true, details}});
  return {rec, format_token(rec.id, secret)};
}

std::vector<TokenRecord> Authority::tokens() {
  auto tx = impl_->read();
  impl_->require_initialized(*tx);
  return tx->tokens().list();
}

void Authority::revoke_token(const std::string& actor, const std::string& id) {
  if (id.size() != 16 || id.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw invalid("token id " + ca::quoted(id) + " is not 16 hex digits");
  auto tx = impl_->write();
  impl_->require_initialized(*tx);
  auto rec = tx->tokens().find(id);
  if (!rec) throw not_found("no token with id " + id);
  if (rec->revoked) throw denied("token " + id + " is already revoked");
  tx->tokens().revoke(id);
  impl_->commit(*tx, {{actor, "token.revoke", std::nullopt, std::nullopt, true,
                       {{"token_id", id}, {"role", to_string(rec->role)}, {"name", rec->name}}}});
}

std::optional<Principal> Authority::authenticate(const std::string& token) {
  auto parsed = parse_token(token);
  if (!parsed) return std::nullopt;
  std::optional<TokenRecord> rec = impl_->token_record(parsed->id);
  // Compare the hash even for an unknown id, so timing does not tell ids apart.
  auto presented = pki::sha256(pki::as_bytes(parsed->secret));
  pki::Bytes stored = rec ? pki::from_hex(rec->secret_hash) : pki::Bytes(32, 0);
  bool match = pki::constant_time_equal(presented, stored);
  if (!rec || !match || rec->revoked) return std::nullopt;
  if (rec->expires_at_ms && *rec->expires_at_ms <= impl_->clock.now().time_since_epoch().count()) return std::nullopt;
  return Principal{rec->role, rec->name, rec->id, ""};
}

void Authority::record(const AuditEvent& event) { impl_->events.record(event); }

}  // namespace meshtrust::ca
