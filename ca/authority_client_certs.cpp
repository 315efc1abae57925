// Client certificates for mutual TLS. A certificate authenticates the principal recorded with
// it when the presented DER is exactly one meshtrust issued (found by its SHA-256 fingerprint),
// active, within its validity and issued by a root still trusted: the TLS handshake proved the
// peer holds the certificate's key, and the record gives role, name, revocation and expiry in
// one read — as for tokens, and no chain building against a store that root rotation changes.
#include "ca/authority.h"
#include "ca/authority_impl.h"
#include "pki/csr.h"

namespace meshtrust::ca {

namespace {

// The URI SAN that names the principal in the certificate, for people and other tools; the
// server maps certificates to principals by their record, not by parsing this.
std::string principal_uri(const Principal& p) { return "urn:meshtrust:principal:" + to_string(p.role) + ":" + p.name; }

constexpr int kDefaultClientDays = 30;
constexpr int kMaxClientDays = 365;

}  // namespace

Authority::ClientCredentials Authority::issue_client_certificate(const std::string& actor, Role role, const std::string& name,
                                                                 const std::optional<std::string>& csr_pem,
                                                                 std::optional<int> days) {
  require_principal_name(role, name, "principal name");
  const int days_valid = days.value_or(kDefaultClientDays);
  if (days_valid < 1 || days_valid > kMaxClientDays)
    throw invalid("client certificate lifetime must be between 1 and " + std::to_string(kMaxClientDays) + " days");
  // The key: the client's own (from its CSR) or a fresh ECDSA P-256 key returned once.
  std::optional<pki::PrivateKey> key;
  std::optional<pki::PublicKey> public_key;
  if (csr_pem) {
    try {
      public_key.emplace(pki::CertificateRequest::from_pem(*csr_pem).public_key());
      public_key->spec();  // refuses keys meshtrust does not issue for, as for intermediates' CSRs
    } catch (const pki::Error& e) {
      throw invalid(std::string("the client certificate's CSR is not acceptable: ") + e.what());
    }
  } else {
    key.emplace(pki::PrivateKey::generate({pki::KeySpec::Type::Ec, 256}));
    public_key.emplace(key->public_key());
  }
  const Principal principal{role, name, "", ""};
  pki::Extensions ext;
  ext.extended_key_usage = {pki::ExtendedKeyUsage::ClientAuth};
  ext.uris = {principal_uri(principal)};

  auto tx = impl_->write();
  auto s = impl_->require_initialized(*tx);
  if (role == Role::Cluster) impl_->require_cluster(*tx, name);
  auto leaf = impl_->sign_tls_leaf(*tx, s, *public_key, {{{"O", "meshtrust"}, {"OU", to_string(role)}, {"CN", name}}},
                                   std::move(ext), days_valid, CertKind::Client, "client", csr_pem.has_value());
  auto& rec = leaf.record;
  rec.principal = principal.actor();
  tx->certificates().insert(rec);
  impl_->commit(*tx, {{actor, "client_certificate.issue", role == Role::Cluster ? std::optional<std::string>(name) : std::nullopt,
                       rec.serial, true,
                       {{"principal", *rec.principal}, {"not_after", rec.not_after}, {"from_csr", csr_pem.has_value()}}}});
  return {rec, leaf.cert.pem() + leaf.root.pem(), key ? key->pkcs8_pem() : std::string()};
}

Authority::CertificateLogin Authority::authenticate_certificate(const pki::Bytes& der) {
  const std::string fingerprint = pki::to_hex(pki::sha256(der));
  auto found = impl_->client_certificate(fingerprint);
  const CertificateRecord* rec = found ? &found->record : nullptr;
  if (!rec || !rec->principal || rec->der != der)
    return {std::nullopt, "the client certificate is not one meshtrust issued for a principal"};
  if (rec->status == CertStatus::Revoked) return {std::nullopt, "the client certificate " + rec->serial + " is revoked"};
  const std::int64_t now = to_seconds(impl_->clock.now()).time_since_epoch().count();
  if (now < rec->not_before || now >= rec->not_after)
    return {std::nullopt, "the client certificate " + rec->serial + " is outside its validity period"};
  if (!found->issuer_trusted)
    return {std::nullopt, "the client certificate " + rec->serial + " was issued by a root that is no longer trusted"};
  const std::string& p = *rec->principal;
  const auto colon = p.find(':');
  if (colon == std::string::npos) throw Error(ErrorKind::Storage, "client certificate " + rec->serial + " names no role in storage");
  return {Principal{role_from(p.substr(0, colon)), p.substr(colon + 1), "", rec->serial}, ""};
}

}  // namespace meshtrust::ca
