// The life after issuance: which intermediates are due for rotation, revocation and the CRLs
// that publish it, and the few settings that steer both.
#include <algorithm>
#include <set>

#include "ca/authority.h"
#include "ca/authority_impl.h"
#include "pki/builder.h"
#include "pki/crl.h"

namespace meshtrust::ca {

namespace {

constexpr std::chrono::minutes kCrlBackdate{5};  // like certificates: clients with a slow clock still accept it

bool past_half_life(const CrlRecord& c, std::int64_t now) { return now >= c.this_update + (c.next_update - c.this_update) / 2; }

std::string reason_list() {
  std::string out;
  for (const auto& n : pki::revocation_reason_names())
    if (n != "removeFromCRL") out += (out.empty() ? "" : ", ") + n;
  return out;
}

constexpr const char* kSettings[] = {"bundle-crl", "crl-days", "renew-percent"};

std::string configuration_value(const CaSettings& s, const std::string& key) {
  if (key == "bundle-crl") return s.bundle_crl ? "on" : "off";
  if (key == "crl-days") return std::to_string(s.crl_days);
  if (key == "renew-percent") return std::to_string(s.renew_percent);
  return "";
}

}  // namespace

// Signs the next CRL of `issuer` (a root or an intermediate whose key meshtrust holds) over its
// unexpired revocations, stores it, and returns it with the event that records it.
std::pair<CrlRecord, AuditEvent> Authority::Impl::next_crl(Transaction& tx, const CaSettings& s, const CertificateRecord& issuer,
                                                          const std::string& actor) {
  if (!issuer.key_id)
    throw denied("certificate " + issuer.serial + " holds its own key (issued from a CSR): meshtrust cannot sign its CRL");
  const pki::Time now = to_seconds(clock.now());
  pki::CrlTemplate t;
  auto latest = tx.crls().latest(issuer.serial);
  t.number = latest ? latest->number + 1 : 1;
  t.this_update = now - kCrlBackdate;
  t.next_update = now + std::chrono::days(s.crl_days);
  for (const auto& r : tx.revocations().for_issuer(issuer.serial)) {
    auto cert = tx.certificates().find(r.serial);
    if (cert && cert->not_after <= now.time_since_epoch().count()) continue;  // an expired certificate needs no listing (RFC 5280 §3.3)
    auto reason = pki::parse_revocation_reason(r.reason);
    t.entries.push_back({pki::Serial::from_hex(r.serial), pki::Time(std::chrono::seconds(r.revoked_at_ms / 1000)),
                         reason.value_or(pki::RevocationReason::Unspecified)});
  }
  std::optional<pki::Crl> crl;
  try {
    crl.emplace(pki::sign_crl(t, pki::Certificate::from_der(issuer.der), open_key(tx, *issuer.key_id)));
  } catch (const pki::Error& e) {
    throw denied("certificate " + issuer.serial + " cannot sign a CRL: " + e.what());
  }
  CrlRecord rec{issuer.serial, t.number, t.this_update.time_since_epoch().count(), t.next_update.time_since_epoch().count(),
                crl->der()};
  tx.crls().insert(rec);
  AuditEvent e{actor, "crl.generate", issuer.cluster, issuer.serial, true,
               {{"number", rec.number}, {"entries", t.entries.size()}, {"next_update", rec.next_update}}};
  return {rec, e};
}

Authority::DueReport Authority::due_for_rotation() {
  auto tx = impl_->read();
  auto s = impl_->require_initialized(*tx);
  const std::int64_t now = to_seconds(impl_->clock.now()).time_since_epoch().count();
  DueReport r;
  for (const auto& c : tx->clusters().list()) {
    if (!c.current_serial) continue;
    auto rec = tx->certificates().find(*c.current_serial);
    if (!rec) continue;
    std::string why;
    const std::int64_t lifetime = std::max<std::int64_t>(1, rec->not_after - rec->not_before);
    if (rec->status == CertStatus::Revoked)
      why = "its intermediate is revoked";
    else if (rec->issuer_serial != s.root_serial)
      why = "its intermediate is under root " + rec->issuer_serial + ", not the signing root";
    else if ((rec->not_after - now) * 100 < static_cast<std::int64_t>(s.renew_percent) * lifetime)
      why = std::to_string(std::max<std::int64_t>(0, (rec->not_after - now) / 86400)) + " days left, under " +
            std::to_string(s.renew_percent) + "% of its lifetime";
    if (why.empty()) continue;
    r.why[c.name] = why;
    if (rec->key_id) r.due.push_back(c.name);
  }
  return r;
}

RevocationRecord Authority::revoke(const std::string& actor, const std::string& serial, const std::string& reason_text) {
  auto reason = pki::parse_revocation_reason(reason_text);
  if (!reason) throw invalid("revocation reason " + ca::quoted(reason_text) + " is not one of " + reason_list());
  if (*reason == pki::RevocationReason::RemoveFromCrl)
    throw invalid("removeFromCRL only appears in delta CRLs; a revocation cannot be undone");
  auto tx = impl_->write();
  auto s = impl_->require_initialized(*tx);
  auto rec = impl_->find_certificate(*tx, serial);
  if (rec.kind == CertKind::Root)
    throw denied("a root is not revoked but replaced: start a root rotation with 'meshtrust root rotate start'");
  if (auto done = tx->revocations().find(serial))
    throw already_exists("certificate " + serial + " was already revoked (" + done->reason + ") by " + done->actor);
  RevocationRecord r{serial, rec.issuer_serial, pki::to_string(*reason), impl_->clock.now().time_since_epoch().count(), actor,
                     std::nullopt};
  tx->revocations().insert(r);
  tx->certificates().set_status(serial, CertStatus::Revoked);
  std::vector<AuditEvent> events{{actor, "certificate.revoke", rec.cluster, serial, true,
                                  {{"reason", r.reason}, {"kind", to_string(rec.kind)}, {"issuer_serial", rec.issuer_serial}}}};
  // The issuer's CRL now lists it. An issuer that cannot sign one (a CSR-issued intermediate,
  // or the makefile profile's CAs without cRLSign) still records the revocation.
  auto issuer = impl_->require_certificate(*tx, rec.issuer_serial, "issuer");
  try {
    auto [crl, event] = impl_->next_crl(*tx, s, issuer, actor);
    r.crl_number = crl.number;
    events.push_back(event);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::PolicyDenied) throw;
    events.front().details["crl"] = std::string("not published: ") + e.what();
  }
  impl_->commit(*tx, events);
  return r;
}

CrlRecord Authority::crl() {
  const std::int64_t now = to_seconds(impl_->clock.now()).time_since_epoch().count();
  {
    auto tx = impl_->read();
    auto s = impl_->require_initialized(*tx);
    auto latest = tx->crls().latest(s.root_serial);
    if (latest && !past_half_life(*latest, now)) return *latest;
  }
  auto tx = impl_->write();
  auto s = impl_->require_initialized(*tx);
  auto latest = tx->crls().latest(s.root_serial);  // another writer may have refreshed it meanwhile
  if (latest && !past_half_life(*latest, now)) return *latest;
  auto [rec, event] = impl_->next_crl(*tx, s, impl_->require_certificate(*tx, s.root_serial, "root"), "system:crl");
  impl_->commit(*tx, {event});
  return rec;
}

size_t Authority::refresh_crls(const std::string& actor) {
  const std::int64_t now = to_seconds(impl_->clock.now()).time_since_epoch().count();
  auto stale = [&](Transaction& tx, const std::string& serial) {
    auto c = tx.crls().latest(serial);
    return !c || past_half_life(*c, now);
  };
  // Which issuers need a CRL: the trusted roots always (if they can sign one); with bundle-crl,
  // each cluster's current intermediate whose key meshtrust holds.
  auto wanted = [&](Transaction& tx, const CaSettings& s) {
    std::vector<CertificateRecord> out;
    for (const auto& serial : s.trust()) out.push_back(impl_->require_certificate(tx, serial, "root"));
    if (s.bundle_crl)
      for (const auto& c : tx.clusters().list())
        if (c.current_serial)
          if (auto rec = tx.certificates().find(*c.current_serial); rec && rec->key_id) out.push_back(*rec);
    return out;
  };
  {
    auto tx = impl_->read();
    auto s = impl_->require_initialized(*tx);
    bool any = false;
    for (const auto& rec : wanted(*tx, s)) any = any || stale(*tx, rec.serial);
    if (!any) return 0;
  }
  auto tx = impl_->write();
  auto s = impl_->require_initialized(*tx);
  std::vector<AuditEvent> events;
  for (const auto& rec : wanted(*tx, s)) {
    if (!stale(*tx, rec.serial)) continue;
    try {
      events.push_back(impl_->next_crl(*tx, s, rec, actor).second);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::PolicyDenied) throw;  // this issuer cannot sign CRLs: nothing to refresh
    }
  }
  if (events.empty()) return 0;
  impl_->commit(*tx, events);
  return events.size();
}

std::map<std::string, std::string> Authority::configuration() {
  auto tx = impl_->read();
  auto s = impl_->require_initialized(*tx);
  std::map<std::string, std::string> out;
  for (const char* key : kSettings) out[key] = configuration_value(s, key);
  return out;
}

void Authority::configure(const std::string& actor, const std::string& key, const std::string& value) {
  auto number = [&](int lo, int hi) {
    if (value.empty() || value.size() > 4 || value.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(value) < lo || std::stoi(value) > hi)
      throw invalid(key + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return std::stoi(value);
  };
  {
    auto tx = impl_->write();
    auto s = impl_->require_initialized(*tx);
    const std::string before = configuration_value(s, key);
    if (key == "bundle-crl") {
      if (value != "on" && value != "off") throw invalid("bundle-crl must be on or off");
      if (value == "on") {
        auto usage = pki::Certificate::from_der(impl_->require_certificate(*tx, s.root_serial, "root").der).key_usage();
        if (usage && !(*usage & pki::kCrlSign))
          throw denied("the root's keyUsage has no cRLSign (the makefile profile), so it cannot sign the CRLs that "
                       "ca-crl.pem needs");
      }
      s.bundle_crl = value == "on";
    } else if (key == "crl-days") {
      s.crl_days = number(1, 365);
    } else if (key == "renew-percent") {
      s.renew_percent = number(1, 90);
    } else {
      throw invalid("unknown setting " + ca::quoted(key) + " (settings: bundle-crl, crl-days, renew-percent)");
    }
    tx->settings().put_ca(s);
    impl_->commit(*tx, {{actor, "config.change", std::nullopt, std::nullopt, true,
                         {{"key", key}, {"from", before}, {"to", configuration_value(s, key)}}}});
  }
  if (key == "bundle-crl" && value == "on") refresh_crls(actor);  // so bundles carry ca-crl.pem from now on
}

}  // namespace meshtrust::ca
