// What the REST server needs from the Authority beyond the CLI's operations: unlocking at
// start, audited bundle delivery, and its own TLS certificate.
#include "ca/authority.h"
#include "ca/authority_impl.h"

namespace meshtrust::ca {

void Authority::unlock() {
  auto tx = impl_->read();
  impl_->require_initialized(*tx);
  impl_->audit_signer(*tx);
}

Bundle Authority::deliver_bundle(const std::string& actor, const std::string& name, bool with_key) {
  Bundle b;
  const auto epoch = impl_->delivery_cache.epoch();
  if (auto hit = impl_->delivery_cache.get(name)) {
    b = std::move(*hit);
  } else {
    auto tx = impl_->read();
    auto s = impl_->require_initialized(*tx);
    auto c = impl_->require_cluster(*tx, name);
    if (!c.current_serial) throw not_found("cluster '" + name + "' has no intermediate yet");
    b = impl_->cached_bundle(*tx, s, name, *c.current_serial);
    impl_->delivery_cache.put(name, b, epoch);
  }
  if (!with_key) b.ca_key.clear();
  // Key delivery is always audited, and the answer waits until the event is durable.
  impl_->events.record({actor, "bundle.deliver", name, b.serial, true, {{"with_key", !b.ca_key.empty()}}});
  return b;
}

CertificateRecord Authority::certificate(const std::string& serial) {
  auto tx = impl_->read();
  impl_->require_initialized(*tx);
  return impl_->find_certificate(*tx, serial);
}

Authority::ServerCredentials Authority::issue_server_certificate(const std::string& actor,
                                                                 const std::vector<std::string>& dns_names,
                                                                 const std::vector<std::string>& ips, int days) {
  require_days(days, "server certificate lifetime");
  if (dns_names.empty() && ips.empty()) throw invalid("the server certificate needs at least one name");
  for (const auto& d : dns_names)
    if (d != "localhost" && !is_dns1123_subdomain(d)) throw invalid("server name " + ca::quoted(d) + " is not a DNS name");
  auto key = pki::PrivateKey::generate({pki::KeySpec::Type::Ec, 256});
  pki::Extensions ext;
  ext.extended_key_usage = {pki::ExtendedKeyUsage::ServerAuth};
  ext.dns_names = dns_names;
  ext.ip_addresses = ips;
  const std::string cn = dns_names.empty() ? ips.front() : dns_names.front();
  auto tx = impl_->write();
  auto s = impl_->require_initialized(*tx);
  auto leaf = impl_->sign_tls_leaf(*tx, s, key.public_key(), {{{"O", "meshtrust"}, {"CN", cn}}}, std::move(ext), days,
                                   CertKind::Server, "server", false);
  tx->certificates().insert(leaf.record);
  nlohmann::json names = dns_names;
  for (const auto& ip : ips) names.push_back(ip);
  impl_->commit(*tx, {{actor, "server_certificate.issue", std::nullopt, leaf.record.serial, true,
                       {{"names", names}, {"not_after", leaf.record.not_after}}}});
  return {leaf.cert.pem() + leaf.root.pem(), key.pkcs8_pem(), leaf.record.not_after};
}

}  // namespace meshtrust::ca
