// Root rotation without a mesh outage (istio-bundle.md, "Safe root rotation"): a persisted,
// resumable state machine. Every transition is one transaction with its audit event, and each
// step refuses, saying why, until its precondition holds:
//   start    new root; every bundle's root-cert.pem = old + new              -> TrustBoth
//   advance  (every cluster has the two-root bundle) intermediates re-issued
//            under the new root, root-cert.pem still both                    -> Reissuing -> NewIntermediates
//   advance  (every cluster runs its new intermediate, and the old ones'
//            workload certificates have had time to expire) new root only; the old root archived
//   abort    back to the last safe state: TrustBoth (intermediates under the old root again), or
//            from TrustBoth to no rotation at all (the new root archived).
// Pushing is the caller's (the CLI pushes after each step; so does the server's reconcile loop).
#include <set>

#include "ca/authority.h"
#include "ca/authority_impl.h"

namespace meshtrust::ca {

namespace {

std::string date_tag(TimePoint now) {
  auto days = std::chrono::floor<std::chrono::days>(now);
  std::chrono::year_month_day ymd{days};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string list(const std::vector<std::string>& names, size_t max = 10) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < max; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max) out += " and " + std::to_string(names.size() - max) + " more";
  return out;
}

}  // namespace

RootRotationStatus Authority::root_rotation(bool ignore_unmanaged) {
  RootRotationStatus st;
  auto delivery_report = delivery();
  auto tx = impl_->read();
  auto s = impl_->require_initialized(*tx);
  st.signing_root = s.root_serial;
  st.trust = s.trust();
  st.state = tx->rotation().get();
  if (!st.state) {
    st.next_step = "no root rotation is in progress; start one with 'meshtrust root rotate start'";
    return st;
  }
  const auto& r = *st.state;
  std::map<std::string, DeliveryState> state;
  for (const auto& d : delivery_report.clusters) state[d.cluster] = d.state;
  std::vector<std::string> not_in_sync, unmanaged, old_intermediates, csr_old;
  for (const auto& c : tx->clusters().list()) {
    if (!c.current_serial) continue;
    auto rec = tx->certificates().find(*c.current_serial);
    if (!rec) continue;
    if (!c.access) {
      if (!ignore_unmanaged) unmanaged.push_back(c.name);
    } else if (state[c.name] != DeliveryState::InSync) {
      not_in_sync.push_back(c.name);
    }
    if (rec->issuer_serial != r.new_root) (rec->key_id ? old_intermediates : csr_old).push_back(c.name);
  }
  auto add = [&](const std::vector<std::string>& names, const std::string& why) {
    if (!names.empty()) st.blockers.push_back(std::to_string(names.size()) + " cluster(s) " + why + ": " + list(names));
  };
  const std::string sync_hint = "(run 'meshtrust push --all', or wait for the server's reconcile loop)";
  const std::string unmanaged_hint =
      "have no kubeconfig, so meshtrust cannot see that they took the bundle up (pass --ignore-unmanaged once they fetched it)";
  switch (r.phase) {
    case RotationPhase::TrustBoth:
      add(not_in_sync, "do not have the two-root bundle in sync yet " + sync_hint);
      add(unmanaged, unmanaged_hint);
      st.next_step = "advance: re-issue every intermediate under the new root " + r.new_root;
      break;
    case RotationPhase::Reissuing:
      add(csr_old, "hold their own keys and still run an intermediate under the old root (they must send a new CSR)");
      st.next_step = "advance: finish re-issuing intermediates under the new root";
      break;
    case RotationPhase::NewIntermediates: {
      add(old_intermediates, "still run an intermediate under the old root");
      add(csr_old, "hold their own keys and still run an intermediate under the old root (they must send a new CSR)");
      add(not_in_sync, "do not have their new intermediate in sync yet " + sync_hint);
      add(unmanaged, unmanaged_hint);
      const std::int64_t waited = (impl_->clock.now().time_since_epoch().count() - r.phase_at_ms) / 1000;
      if (waited < r.workload_ttl_s)
        st.blockers.push_back("workload certificates signed by the old intermediates may live " +
                              std::to_string(r.workload_ttl_s - waited) + " more seconds (workload TTL " +
                              std::to_string(r.workload_ttl_s) + " s)");
      st.next_step = "advance: drop the old root " + r.old_root + " from every bundle and archive it";
      break;
    }
  }
  return st;
}

RootRotationRecord Authority::root_rotate_start(const std::string& actor, const RootRotateOptions& o) {
  if (o.workload_ttl < std::chrono::seconds(0) || o.workload_ttl > std::chrono::days(365))
    throw invalid("the workload TTL window must be between 0 and 365 days");
  if (o.import_cert_pem.has_value() != o.import_key_pem.has_value())
    throw invalid("importing the new root needs both --import-cert and --import-key");
  TimePoint now = impl_->clock.now();
  CertificateRecord old_root;
  std::string profile_name;
  {
    auto tx = impl_->read();
    auto s = impl_->require_initialized(*tx);
    if (auto r = tx->rotation().get())
      throw conflict("a root rotation is already in progress (phase " + to_string(r->phase) + "); advance or abort it");
    if (s.trust().size() != 1) throw Error(ErrorKind::Storage, "the trust bundle holds several roots but no rotation is recorded");
    old_root = impl_->require_certificate(*tx, s.root_serial, "root");
    profile_name = old_root.profile == "makefile" ? "makefile" : "default";
    impl_->unlock(*tx);
    impl_->audit_signer(*tx);
  }
  const Profile& profile = Profile::get(profile_name);

  // The new root: generated, or imported (checked the way init checks an import).
  std::optional<pki::Certificate> cert;
  std::optional<pki::PrivateKey> key;
  if (o.import_cert_pem) {
    try {
      cert.emplace(pki::Certificate::from_pem(*o.import_cert_pem));
      key.emplace(pki::PrivateKey::from_pem(*o.import_key_pem));
    } catch (const pki::Error& e) {
      throw invalid(std::string("the imported root is not usable: ") + e.what());
    }
    if (!cert->is_ca() || !cert->is_self_signed()) throw invalid("the imported certificate is not a self-signed CA");
    if (!key->matches(cert->public_key())) throw invalid("the imported key does not match the imported certificate");
    if (cert->not_after() <= to_seconds(now)) throw invalid("the imported root certificate has expired");
    if (cert->sha256_fingerprint() == old_root.fingerprint_sha256) throw invalid("the imported root is the current root");
  } else {
    pki::KeySpec spec = o.key_algorithm ? Impl::parse_key_spec(*o.key_algorithm) : profile.root_key;
    int d = o.days.value_or(profile.root_days);
    require_days(d, "root lifetime");
    std::string cn = o.cn.value_or("Root CA " + date_tag(now));
    if (cn.empty() || cn.size() > 64) throw invalid("the root's common name must be 1 to 64 characters");
    key.emplace(pki::PrivateKey::generate(spec));
    auto [nb, na] = validity(profile, now, d, std::nullopt);
    pki::CertificateTemplate t{pki::Serial::random128(), root_subject(o.org, cn), nb, na, profile.root_extensions()};
    cert.emplace(pki::sign_certificate(t, key->public_key(), std::nullopt, *key));
  }
  if (cert->subject() == pki::Certificate::from_der(old_root.der).subject())
    throw invalid("the new root has the old root's subject; give it another common name (--cn) so the two can be told apart");

  auto tx = impl_->write();
  auto s = impl_->require_initialized(*tx);
  if (tx->rotation().get() || s.root_serial != old_root.serial) throw conflict("the root changed while the new one was made; try again");
  SealedKey sealed = impl_->vault->seal(*key);
  CertificateRecord rec = make_record(*cert, CertKind::Root, std::nullopt, "", profile.name, sealed.id, false, now);
  tx->keys().insert(sealed);
  tx->certificates().insert(rec);

  RootRotationRecord r;
  r.phase = RotationPhase::TrustBoth;
  r.old_root = old_root.serial;
  r.new_root = rec.serial;
  r.started_at_ms = r.phase_at_ms = now.time_since_epoch().count();
  r.workload_ttl_s = o.workload_ttl.count();
  if (o.cross_sign) {
    // The new root's key certified by the old root, for clients that pin the old root.
    auto old_cert = pki::Certificate::from_der(old_root.der);
    auto old_key = impl_->open_key(*tx, *old_root.key_id);
    auto [nb, na] = validity(profile, now, o.days.value_or(profile.root_days), old_cert.not_after());
    pki::CertificateTemplate t{pki::Serial::random128(), cert->subject(), nb, na, profile.root_extensions()};
    r.cross_signed = pki::sign_certificate(t, cert->public_key(), old_cert, old_key).der();
  }
  tx->rotation().put(r);
  s.trust_roots = {old_root.serial, rec.serial};
  tx->settings().put_ca(s);
  impl_->settings_changed();
  impl_->commit(*tx, {{actor, o.import_cert_pem ? "root.import" : "root.create", std::nullopt, rec.serial, true,
                       {{"subject", rec.subject},
                        {"key_algorithm", rec.key_algorithm},
                        {"not_after", rec.not_after},
                        {"fingerprint_sha256", rec.fingerprint_sha256},
                        {"rotation", true}}},
                      {actor, "root_rotation.phase", std::nullopt, rec.serial, true,
                       {{"phase", to_string(r.phase)},
                        {"old_root", r.old_root},
                        {"new_root", r.new_root},
                        {"cross_signed", !r.cross_signed.empty()},
                        {"workload_ttl_s", r.workload_ttl_s}}}});
  return r;
}

RootRotationRecord Authority::root_rotate_advance(const std::string& actor, bool ignore_unmanaged, const IssueProgress& progress) {
  auto st = root_rotation(ignore_unmanaged);
  if (!st.state) throw denied(st.next_step);
  RootRotationRecord r = *st.state;
  auto refuse = [&](const std::string& step) {
    std::string why;
    for (const auto& b : st.blockers) why += (why.empty() ? "" : "; ") + b;
    throw denied("cannot " + step + " yet: " + why);
  };
  auto set_phase = [&](RotationPhase phase, const std::function<void(Transaction&, CaSettings&)>& change) {
    auto tx = impl_->write();
    auto s = impl_->require_initialized(*tx);
    auto now_rec = tx->rotation().get();
    if (!now_rec || now_rec->phase != r.phase) throw conflict("the root rotation changed meanwhile; look at 'meshtrust root rotate status'");
    change(*tx, s);
    tx->settings().put_ca(s);
    impl_->settings_changed();
    r.phase = phase;
    r.phase_at_ms = impl_->clock.now().time_since_epoch().count();
    tx->rotation().put(r);
    impl_->commit(*tx, {{actor, "root_rotation.phase", std::nullopt, r.new_root, true,
                         {{"phase", to_string(phase)}, {"old_root", r.old_root}, {"new_root", r.new_root}}}});
  };

  if (r.phase == RotationPhase::TrustBoth) {
    if (!st.blockers.empty()) refuse("re-issue the intermediates under the new root");
    set_phase(RotationPhase::Reissuing, [&](Transaction&, CaSettings& s) { s.root_serial = r.new_root; });
  }
  if (r.phase == RotationPhase::Reissuing) {
    // Resumable: whatever is still under the old root is re-issued now (a run killed half way
    // re-issues the rest); clusters holding their own keys must send a CSR themselves.
    auto due = due_for_rotation();
    std::vector<std::string> old;
    {
      auto tx = impl_->read();
      for (const auto& name : due.due) {
        auto c = tx->clusters().find(name);
        if (!c || !c->current_serial) continue;
        auto rec = tx->certificates().find(*c->current_serial);
        if (rec && rec->issuer_serial != r.new_root) old.push_back(name);
      }
    }
    if (!old.empty()) rotate(actor, old, {}, progress);
    st = root_rotation(ignore_unmanaged);
    bool csr_waiting = false;
    for (const auto& b : st.blockers) csr_waiting = csr_waiting || b.find("own keys") != std::string::npos;
    if (csr_waiting) refuse("finish re-issuing");
    set_phase(RotationPhase::NewIntermediates, [](Transaction&, CaSettings&) {});
    return r;
  }
  // NewIntermediates: drop the old root.
  if (!st.blockers.empty()) refuse("drop the old root");
  {
    auto tx = impl_->write();
    auto s = impl_->require_initialized(*tx);
    auto now_rec = tx->rotation().get();
    if (!now_rec || now_rec->phase != RotationPhase::NewIntermediates)
      throw conflict("the root rotation changed meanwhile; look at 'meshtrust root rotate status'");
    s.root_serial = r.new_root;
    s.trust_roots.clear();  // the new root alone
    tx->settings().put_ca(s);
    impl_->settings_changed();
    tx->certificates().set_status(r.old_root, CertStatus::Superseded);  // archived: kept, never deleted
    tx->rotation().clear();
    impl_->commit(*tx, {{actor, "root_rotation.complete", std::nullopt, r.new_root, true,
                         {{"old_root", r.old_root}, {"new_root", r.new_root}, {"old_root_status", "archived"}}}});
  }
  return r;
}

RootRotationRecord Authority::root_rotate_abort(const std::string& actor, const IssueProgress& progress) {
  std::optional<RootRotationRecord> cur;
  {
    auto tx = impl_->read();
    impl_->require_initialized(*tx);
    cur = tx->rotation().get();
  }
  if (!cur) throw denied("no root rotation is in progress");
  RootRotationRecord r = *cur;
  if (r.phase == RotationPhase::TrustBoth) {
    // Nothing runs under the new root yet: stop trusting it; keep it on record, archived.
    auto tx = impl_->write();
    auto s = impl_->require_initialized(*tx);
    s.root_serial = r.old_root;
    s.trust_roots.clear();
    tx->settings().put_ca(s);
    impl_->settings_changed();
    tx->certificates().set_status(r.new_root, CertStatus::Superseded);
    tx->rotation().clear();
    impl_->commit(*tx, {{actor, "root_rotation.abort", std::nullopt, r.new_root, true,
                         {{"from_phase", "trust-both"}, {"to", "none"}, {"old_root", r.old_root}, {"new_root", r.new_root}}}});
    return r;
  }
  // Intermediates under the new root exist: the last safe state is TrustBoth with every cluster
  // back under the old root (both roots stay trusted throughout, so nothing breaks meanwhile).
  const std::string from = to_string(r.phase);
  {
    auto tx = impl_->write();
    auto s = impl_->require_initialized(*tx);
    s.root_serial = r.old_root;
    tx->settings().put_ca(s);
    impl_->settings_changed();
    r.phase = RotationPhase::TrustBoth;
    r.phase_at_ms = impl_->clock.now().time_since_epoch().count();
    tx->rotation().put(r);
    impl_->commit(*tx, {{actor, "root_rotation.abort", std::nullopt, r.new_root, true,
                         {{"from_phase", from}, {"to", "trust-both"}, {"old_root", r.old_root}, {"new_root", r.new_root}}}});
  }
  auto due = due_for_rotation();  // those now under a root other than the signing (old) one
  if (!due.due.empty()) rotate(actor, due.due, {}, progress);
  return r;
}

}  // namespace meshtrust::ca
