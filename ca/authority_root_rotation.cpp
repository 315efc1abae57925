// Root rotation without a mesh outage (istio-bundle.md, "Safe root rotation"): a persisted,
// resumable state machine. Every transition is one transaction with its audit event, and each
// step refuses, saying why, until its precondition holds:
//   start    new root; every bundle's root-cert.pem = old + new              -> TrustBoth
//   advance  (every cluster has the two-root bundle) intermediates re-issued
//            under the new root, root-cert.pem still both                    -> Reissuing -> NewIntermediates
//   advance  (every cluster runs its new intermediate, and the old ones'
//            workload certificates have had time to expire) new root only; the old root archived
//   abort    back to the last safe state: TrustBoth (intermediates under the old root again), or
//            from TrustBoth to no rotation at all (the new root archived) once nothing chains to
//            the new root any more: every cluster back under the old root and in sync, and, if
//            intermediates under the new root ever signed, their workload TTL passed.
// Pushing is the caller's (the CLI pushes after each step; so does the server's reconcile loop).
#include <functional>
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

// The clusters whose current intermediate meshtrust holds the key of and whose issuer
// `issuer_matches` accepts: those a step can re-issue itself.
std::vector<std::string> held_key_clusters(Transaction& tx, const std::function<bool(const std::string&)>& issuer_matches) {
  std::vector<std::string> names;
  for (const auto& c : tx.clusters().list()) {
    if (!c.current_serial) continue;
    auto rec = tx.certificates().find(*c.current_serial);
    if (rec && rec->key_id && issuer_matches(rec->issuer_serial)) names.push_back(c.name);
  }
  return names;
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
  std::map<std::string, ClusterDelivery> delivered;
  for (auto& d : delivery_report.clusters) delivered.emplace(d.cluster, std::move(d));

  // Where every cluster stands. `settled_ms`: when the last cluster got its current bundle (the
  // first successful push of it); workload certificates signed by intermediates it replaced may
  // live a workload TTL past that. A cluster without a kubeconfig counts from when its current
  // intermediate was issued, or the phase change if later.
  std::vector<std::string> not_in_sync, unmanaged, under_old, csr_under_old, under_new, csr_under_new;
  std::int64_t settled_ms = r.phase_at_ms;
  for (const auto& c : tx->clusters().list()) {
    if (!c.current_serial) continue;
    auto rec = tx->certificates().find(*c.current_serial);
    if (!rec) continue;
    settled_ms = std::max(settled_ms, rec->issued_at_ms);  // the one it replaced was current until then
    if (!c.access) {
      if (!ignore_unmanaged) unmanaged.push_back(c.name);
    } else if (const auto& d = delivered[c.name]; d.state != DeliveryState::InSync) {
      not_in_sync.push_back(c.name);
    } else {
      std::int64_t first = 0;
      for (const auto& p : tx->pushes().history(c.name, 200)) {  // newest first
        if (p.result == PushResult::Failed) continue;
        if (p.bundle_sha256 != d.desired_bundle_sha256) break;
        first = p.time_ms;
      }
      settled_ms = std::max(settled_ms, first);
    }
    if (rec->issuer_serial == r.new_root)
      (rec->key_id ? under_new : csr_under_new).push_back(c.name);
    else
      (rec->key_id ? under_old : csr_under_old).push_back(c.name);
  }
  auto add = [](std::vector<std::string>& out, const std::vector<std::string>& names, const std::string& why) {
    if (!names.empty()) out.push_back(std::to_string(names.size()) + " cluster(s) " + why + ": " + list(names));
  };
  const std::int64_t waited = (impl_->clock.now().time_since_epoch().count() - settled_ms) / 1000;
  auto ttl = [&](std::vector<std::string>& out, const std::string& whose) {
    if (waited < r.workload_ttl_s)
      out.push_back("workload certificates signed by " + whose + " may live " + std::to_string(r.workload_ttl_s - waited) +
                    " more seconds (workload TTL " + std::to_string(r.workload_ttl_s) + " s from when the last cluster got "
                    "its current bundle)");
  };
  const std::string sync_hint = "(run 'meshtrust push --all', or wait for the server's reconcile loop)";
  const std::string unmanaged_hint =
      "have no kubeconfig, so meshtrust cannot see that they took the bundle up (pass --ignore-unmanaged once they fetched it)";
  const std::string csr_new = "hold their own keys and run an intermediate under the new root (they must send a CSR again)";
  switch (r.phase) {
    case RotationPhase::TrustBoth:
      add(st.blockers, not_in_sync, "do not have the two-root bundle in sync yet " + sync_hint);
      add(st.blockers, unmanaged, unmanaged_hint);
      st.next_step = "advance: re-issue every intermediate under the new root " + r.new_root;
      // Back to one root: nothing may still chain to the new root, everyone must have their
      // old-root intermediate, and, if intermediates under the new root ever signed, their
      // workload certificates must have had time to expire.
      add(st.abort_blockers, under_new, "still run an intermediate under the new root (abort re-issues them)");
      add(st.abort_blockers, csr_under_new, csr_new);
      add(st.abort_blockers, not_in_sync, "do not have their current bundle in sync yet " + sync_hint);
      add(st.abort_blockers, unmanaged, unmanaged_hint);
      if (r.reissued) ttl(st.abort_blockers, "the intermediates under the new root");
      break;
    case RotationPhase::Reissuing:
      add(st.blockers, csr_under_old, "hold their own keys and still run an intermediate under the old root (they must send a new CSR)");
      st.next_step = "advance: finish re-issuing intermediates under the new root";
      break;
    case RotationPhase::NewIntermediates:
      add(st.blockers, under_old, "still run an intermediate under the old root");
      add(st.blockers, csr_under_old, "hold their own keys and still run an intermediate under the old root (they must send a new CSR)");
      add(st.blockers, not_in_sync, "do not have their new intermediate in sync yet " + sync_hint);
      add(st.blockers, unmanaged, unmanaged_hint);
      ttl(st.blockers, "the old intermediates");
      st.next_step = "advance: drop the old root " + r.old_root + " from every bundle and archive it";
      break;
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
    auto [c, k] = imported_root(*o.import_cert_pem, *o.import_key_pem, now);
    cert.emplace(std::move(c));
    key.emplace(std::move(k));
    if (!cert->is_self_signed()) throw invalid("the imported certificate is not self-signed; a root of the mesh must be");
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
  s.trust_roots = {old_root.serial, rec.serial};
  impl_->store_rotation(*tx, s, r, {{actor, o.import_cert_pem ? "root.import" : "root.create", std::nullopt, rec.serial, true,
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
    r.phase = phase;
    r.phase_at_ms = impl_->clock.now().time_since_epoch().count();
    impl_->store_rotation(*tx, s, r, {{actor, "root_rotation.phase", std::nullopt, r.new_root, true,
                         {{"phase", to_string(phase)}, {"old_root", r.old_root}, {"new_root", r.new_root}}}});
  };

  bool moved = false;  // whether this call changed anything (a call that changes nothing refuses)
  if (r.phase == RotationPhase::TrustBoth) {
    if (!st.blockers.empty()) refuse("re-issue the intermediates under the new root");
    moved = true;
    r.reissued = true;  // from here on, intermediates under the new root may sign workloads
    set_phase(RotationPhase::Reissuing, [&](Transaction&, CaSettings& s) { s.root_serial = r.new_root; });
  }
  if (r.phase == RotationPhase::Reissuing) {
    // Resumable: whatever is still under the old root is re-issued now (a run killed half way
    // re-issues the rest); clusters holding their own keys must send a CSR themselves.
    auto old = held_key_clusters(*impl_->read(), [&](const std::string& issuer) { return issuer != r.new_root; });
    if (!old.empty()) {
      rotate(actor, old, {}, progress);
      moved = true;
    }
    st = root_rotation(ignore_unmanaged);
    if (!st.blockers.empty()) {  // clusters holding their own keys have not sent their CSRs yet
      if (!moved) refuse("finish re-issuing");
      return r;  // progress made; `root rotate status` says what is left
    }
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
    tx->certificates().set_status(r.old_root, CertStatus::Superseded);  // archived: kept, never deleted
    impl_->store_rotation(*tx, s, std::nullopt, {{actor, "root_rotation.complete", std::nullopt, r.new_root, true,
                         {{"old_root", r.old_root}, {"new_root", r.new_root}, {"old_root_status", "archived"}}}});
  }
  return r;
}

RootRotationRecord Authority::root_rotate_abort(const std::string& actor, bool ignore_unmanaged, const IssueProgress& progress) {
  std::optional<RootRotationRecord> cur;
  {
    auto tx = impl_->read();
    impl_->require_initialized(*tx);
    cur = tx->rotation().get();
  }
  if (!cur) throw denied("no root rotation is in progress");
  RootRotationRecord r = *cur;
  // Every intermediate meshtrust holds the key of goes back under the old root (resumable: an
  // abort killed half way re-issues the rest when run again).
  auto back_under_old_root = [&] {
    auto names = held_key_clusters(*impl_->read(), [&](const std::string& issuer) { return issuer == r.new_root; });
    if (names.empty()) return;
    rotate(actor, names, {}, progress);
    // The replaced intermediates were current until now: their workload certificates' TTL
    // (for clusters whose pushes cannot tell) counts from here.
    auto tx = impl_->write();
    impl_->require_initialized(*tx);
    if (auto rec = tx->rotation().get()) {
      rec->phase_at_ms = impl_->clock.now().time_since_epoch().count();
      tx->rotation().put(*rec);
      impl_->commit(*tx, {{actor, "root_rotation.reissued", std::nullopt, r.old_root, true,
                           {{"clusters", names.size()}, {"under", r.old_root}}}});
    }
  };

  if (r.phase != RotationPhase::TrustBoth) {
    // Intermediates under the new root exist: the last safe state is TrustBoth with every
    // cluster back under the old root (both roots stay trusted throughout, so nothing breaks).
    const std::string from = to_string(r.phase);
    {
      auto tx = impl_->write();
      auto s = impl_->require_initialized(*tx);
      s.root_serial = r.old_root;
      r.phase = RotationPhase::TrustBoth;
      r.phase_at_ms = impl_->clock.now().time_since_epoch().count();
      impl_->store_rotation(*tx, s, r, {{actor, "root_rotation.abort", std::nullopt, r.new_root, true,
                           {{"from_phase", from}, {"to", "trust-both"}, {"old_root", r.old_root}, {"new_root", r.new_root}}}});
    }
    back_under_old_root();
    return r;
  }

  // From TrustBoth to no rotation: the new root leaves every bundle, so nothing may chain to it.
  back_under_old_root();
  auto st = root_rotation(ignore_unmanaged);
  if (!st.abort_blockers.empty()) {
    std::string why;
    for (const auto& b : st.abort_blockers) why += (why.empty() ? "" : "; ") + b;
    throw denied("cannot drop the new root yet: " + why);
  }
  auto tx = impl_->write();
  auto s = impl_->require_initialized(*tx);
  auto now_rec = tx->rotation().get();
  if (!now_rec || now_rec->phase != RotationPhase::TrustBoth)
    throw conflict("the root rotation changed meanwhile; look at 'meshtrust root rotate status'");
  s.root_serial = r.old_root;
  s.trust_roots.clear();
  tx->certificates().set_status(r.new_root, CertStatus::Superseded);  // archived, never deleted
  impl_->store_rotation(*tx, s, std::nullopt, {{actor, "root_rotation.abort", std::nullopt, r.new_root, true,
                       {{"from_phase", "trust-both"}, {"to", "none"}, {"old_root", r.old_root}, {"new_root", r.new_root}}}});
  return r;
}

}  // namespace meshtrust::ca
