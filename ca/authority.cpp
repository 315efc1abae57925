#include "ca/authority.h"

#include "ca/authority_impl.h"

#include <algorithm>
#include <set>
#include <thread>

#include "ca/audit.h"
#include "ca/audit_verify.h"
#include "ca/merkle.h"
#include "ca/errors.h"
#include "ca/names.h"
#include "ca/pipeline.h"
#include "ca/profile.h"
#include "pki/builder.h"
#include "pki/csr.h"
#include "pki/error.h"
#include "pki/verify.h"

namespace meshtrust::ca {

Authority::Authority(Store& store, const Clock& clock, KekSecretSource kek_source)
    : impl_(std::make_unique<Impl>(store, clock, std::move(kek_source))) {}
Authority::~Authority() = default;

bool Authority::initialized() { return impl_->read()->settings().ca().has_value(); }

CertificateRecord Authority::init(const std::string& actor, const InitOptions& o) {
  const Profile& profile = Profile::get(o.profile);
  if (o.import_cert_pem.has_value() != o.import_key_pem.has_value())
    throw invalid("importing a root needs both --import-cert and --import-key");
  if (o.cn.empty() || o.cn.size() > 64) throw invalid("the root's common name must be 1 to 64 characters");
  if (o.org.size() > 64) throw invalid("the root's organisation must be at most 64 characters");
  if (!is_dns1123_subdomain(o.trust_domain)) throw invalid("trust domain " + ca::quoted(o.trust_domain) + " is not a DNS name");

  TimePoint now = impl_->clock.now();
  std::optional<pki::Certificate> cert;
  std::optional<pki::PrivateKey> key;
  bool imported = false;
  if (o.import_cert_pem) {
    auto [c, k] = imported_root(*o.import_cert_pem, *o.import_key_pem, now);
    cert.emplace(std::move(c));
    key.emplace(std::move(k));
    imported = true;
  } else {
    pki::KeySpec spec = o.key_algorithm ? Impl::parse_key_spec(*o.key_algorithm) : profile.root_key;
    int d = o.days.value_or(profile.root_days);
    require_days(d, "root lifetime");
    key.emplace(pki::PrivateKey::generate(spec));
    auto [nb, na] = validity(profile, now, d, std::nullopt);
    pki::CertificateTemplate t{pki::Serial::random128(), root_subject(o.org, o.cn), nb, na, profile.root_extensions()};
    cert.emplace(pki::sign_certificate(t, key->public_key(), std::nullopt, *key));
  }

  KekSettings kek = KeyVault::create_settings(o.kek_mode, o.kek_secret);
  KeyVault vault = KeyVault::unlock(kek, o.kek_secret);
  auto audit_key = pki::PrivateKey::generate({pki::KeySpec::Type::Ec, 256});
  SealedKey sealed_root = vault.seal(*key), sealed_audit = vault.seal(audit_key);
  CertificateRecord rec = make_record(*cert, CertKind::Root, std::nullopt, "", profile.name, sealed_root.id, false, now);

  auto tx = impl_->write();
  if (tx->settings().ca()) throw already_exists("the data dir is already initialised; it holds root " + impl_->root_record(*tx).serial);
  tx->settings().put_kek(kek);
  tx->keys().insert(sealed_root);
  tx->keys().insert(sealed_audit);
  tx->certificates().insert(rec);
  CaSettings settings;
  settings.root_serial = rec.serial;
  settings.default_profile = profile.name;
  settings.audit_key_id = sealed_audit.id;
  settings.trust_domain = o.trust_domain;
  tx->settings().put_ca(settings);
  impl_->vault.emplace(std::move(vault));
  impl_->audit_key.emplace(std::move(audit_key));
  impl_->commit(*tx, {{actor, imported ? "root.import" : "root.create", std::nullopt, rec.serial, true,
                       {{"profile", profile.name},
                        {"subject", rec.subject},
                        {"key_algorithm", rec.key_algorithm},
                        {"not_after", rec.not_after},
                        {"fingerprint_sha256", rec.fingerprint_sha256},
                        {"key_protection", o.kek_mode == KekSettings::Mode::Passphrase ? "passphrase" : "key-file"}}}});
  return rec;
}

ClusterRecord Authority::add_cluster(const std::string& actor, const ClusterRecord& spec) {
  require_cluster_name(spec.name);
  require_namespace(spec.ns);
  require_subdomain(spec.secret_name, "secret name");
  auto tx = impl_->write();
  impl_->require_initialized(*tx);
  if (tx->clusters().find(spec.name)) throw already_exists("cluster '" + spec.name + "' is already registered");
  ClusterRecord c = spec;
  c.created_at_ms = impl_->clock.now().time_since_epoch().count();
  c.current_serial.reset();
  tx->clusters().insert(c);
  nlohmann::json details = {{"namespace", c.ns}, {"secret_name", c.secret_name}};
  if (c.access) {
    if (c.access->kubeconfig.empty()) throw invalid("the cluster's kubeconfig is empty");
    pki::Bytes sealed = impl_->unlock(*tx).seal_blob(pki::as_bytes(c.access->kubeconfig), kubeconfig_purpose(c.name));
    c.access->kubeconfig.clear();  // from here on only the description travels
    tx->clusters().set_access(c.name, *c.access, sealed);
    // The description, never the kubeconfig: it may hold a token or a client key.
    details["api_server"] = c.access->server;
    details["context"] = c.access->context;
    details["auth"] = c.access->auth;
    details["insecure_skip_tls_verify"] = c.access->insecure;
  }
  impl_->commit(*tx, {{actor, "cluster.add", c.name, std::nullopt, true, details}});
  return c;
}

void Authority::remove_cluster(const std::string& actor, const std::string& name) {
  auto tx = impl_->write();
  impl_->require_initialized(*tx);
  auto c = impl_->require_cluster(*tx, name);
  tx->clusters().remove(name);
  impl_->commit(*tx, {{actor, "cluster.remove", name, c.current_serial, true, nlohmann::json::object()}});
}

std::vector<ClusterRecord> Authority::clusters() {
  auto tx = impl_->read();
  impl_->require_initialized(*tx);
  return tx->clusters().list();
}

ClusterRecord Authority::cluster(const std::string& name) {
  auto tx = impl_->read();
  impl_->require_initialized(*tx);
  return impl_->require_cluster(*tx, name);
}

std::vector<CertificateRecord> Authority::issue(const std::string& actor, const std::vector<std::string>& names,
                                                const IssueOptions& options, const IssueProgress& progress) {
  return issue_batch(actor, names, options, progress, false);
}

std::vector<CertificateRecord> Authority::rotate(const std::string& actor, const std::vector<std::string>& names,
                                                 const IssueOptions& options, const IssueProgress& progress) {
  return issue_batch(actor, names, options, progress, true);
}

std::vector<CertificateRecord> Authority::issue_batch(const std::string& actor, const std::vector<std::string>& names,
                                                      const IssueOptions& options, const IssueProgress& progress,
                                                      bool rotation) {
  if (names.empty()) throw invalid(rotation ? "name at least one cluster to rotate" : "name at least one cluster to issue for");
  std::optional<IssuerContext> ctx;
  std::vector<std::optional<std::string>> previous;
  {
    auto tx = impl_->read();
    impl_->require_initialized(*tx);
    std::set<std::string> seen;
    for (const auto& n : names) {
      auto c = impl_->require_cluster(*tx, n);
      if (!seen.insert(n).second) throw invalid("cluster '" + n + "' is named twice");
      if (!rotation && c.current_serial)
        throw denied("cluster '" + n + "' already has intermediate " + *c.current_serial + "; rotate it with 'meshtrust rotate " +
                     n + "'");
      if (rotation) {
        if (!c.current_serial) throw denied("cluster '" + n + "' has no intermediate to rotate; issue one with 'meshtrust issue " + n + "'");
        auto cur = impl_->require_certificate(*tx, *c.current_serial, "intermediate");
        if (!cur.key_id)
          throw denied("cluster '" + n + "' holds its own intermediate key (issued from a CSR); rotate it with a new CSR "
                       "('meshtrust rotate " + n + " --csr FILE', or the cluster's POST /v1/clusters/" + n + "/csr)");
      }
      previous.push_back(c.current_serial);
    }
    ctx.emplace(impl_->issuer_context(*tx, options));
    impl_->audit_signer(*tx);
  }

  // Workers generate keys and sign (the expensive part, in parallel on every core); this
  // thread stores what they finish, grouping whatever is ready into one commit.
  const size_t total = names.size();
  std::vector<std::optional<CertificateRecord>> by_position(total);  // answered in the order given
  size_t done = 0;
  run_pipeline<Issued>(
      total, std::thread::hardware_concurrency(), 512,
      [&](size_t i) {
        Issued item = impl_->issue_one(*ctx, names[i], i);
        item.previous = previous[i];
        return item;
      },
      [&](std::vector<Issued>& batch) {
        impl_->store_issued(actor, batch);
        for (auto& item : batch) {
          by_position[item.position] = std::move(item.record);
          ++done;
          if (progress) progress(done, total, *by_position[item.position]);
        }
      });
  std::vector<CertificateRecord> issued;
  issued.reserve(total);
  for (auto& r : by_position) issued.push_back(std::move(*r));
  if (impl_->bundle_crl_on()) refresh_crls(actor);  // the new intermediates' own CRLs, which their bundles carry
  return issued;
}

CertificateRecord Authority::issue_from_csr(const std::string& actor, const std::string& name, const std::string& csr_pem,
                                            const IssueOptions& options, bool rotation) {
  if (options.key_algorithm) throw invalid("--key-algorithm does not apply to a CSR: the cluster chose its key");
  std::optional<pki::CertificateRequest> csr;
  try {
    csr.emplace(pki::CertificateRequest::from_pem(csr_pem));
  } catch (const pki::Error& e) {
    throw invalid(std::string("the CSR for cluster '") + name + "' is not acceptable: " + e.what());
  }
  std::optional<IssuerContext> ctx;
  std::optional<std::string> previous;
  {
    auto tx = impl_->read();
    impl_->require_initialized(*tx);
    auto c = impl_->require_cluster(*tx, name);
    if (c.current_serial && !rotation)
      throw denied("cluster '" + name + "' already has intermediate " + *c.current_serial + "; rotate it with 'meshtrust rotate " +
                   name + " --csr FILE'");
    if (!c.current_serial && rotation)
      throw denied("cluster '" + name + "' has no intermediate to rotate; issue one with 'meshtrust issue " + name + " --csr FILE'");
    previous = c.current_serial;
    ctx.emplace(impl_->issuer_context(*tx, options));
    impl_->audit_signer(*tx);
  }
  TimePoint now = impl_->clock.now();
  auto cert = impl_->sign_intermediate(*ctx, name, csr->public_key(), now);
  auto rec = make_record(cert, CertKind::Intermediate, name, ctx->root_cert.serial().hex(), ctx->profile->name,
                         std::nullopt, true, now);
  impl_->store_issued(actor, {{0, rec, std::nullopt, previous}});
  return rec;
}

std::vector<Bundle> Authority::export_bundles(const std::string& actor, const std::vector<std::string>& names) {
  if (names.empty()) throw invalid("name at least one cluster to export");
  auto tx = impl_->write();
  auto s = impl_->require_initialized(*tx);
  std::vector<Bundle> out;
  std::vector<AuditEvent> events;
  std::set<std::string> seen;
  for (const auto& name : names) {
    auto c = impl_->require_cluster(*tx, name);
    if (!seen.insert(name).second) throw invalid("cluster '" + name + "' is named twice");
    if (!c.current_serial) throw not_found("cluster '" + name + "' has no intermediate yet; run 'meshtrust issue " + name + "'");
    auto rec = tx->certificates().find(*c.current_serial);
    if (!rec) throw Error(ErrorKind::Storage, "intermediate " + *c.current_serial + " is missing");
    Bundle b = impl_->bundle_for(*tx, s, name, *rec, true);
    events.push_back({actor, "bundle.export", name, rec->serial, true, {{"with_key", !b.ca_key.empty()}}});
    out.push_back(std::move(b));
  }
  impl_->commit(*tx, events);
  return out;
}

WorkloadBundle Authority::issue_workload(const std::string& actor, const WorkloadRequest& r) {
  require_namespace(r.ns);
  require_subdomain(r.service_account, "service account");
  auto tx = impl_->write();
  auto s = impl_->require_initialized(*tx);
  auto c = impl_->require_cluster(*tx, r.cluster);
  std::string td = r.trust_domain.value_or(s.trust_domain);
  if (!is_dns1123_subdomain(td)) throw invalid("trust domain " + ca::quoted(td) + " is not a DNS name");
  if (!c.current_serial) throw not_found("cluster '" + r.cluster + "' has no intermediate yet; run 'meshtrust issue " + r.cluster + "'");
  auto irec = tx->certificates().find(*c.current_serial);
  if (!irec) throw Error(ErrorKind::Storage, "intermediate " + *c.current_serial + " is missing");
  if (!irec->key_id)
    throw denied("cluster '" + r.cluster + "' holds its own intermediate key (issued from a CSR); sign workload certificates in the cluster");
  if (irec->status == CertStatus::Revoked)
    throw denied("cluster '" + r.cluster + "''s intermediate " + irec->serial + " is revoked; rotate it first ('meshtrust rotate " +
                 r.cluster + "')");
  const Profile& profile = Profile::get(irec->profile);
  int d = r.days.value_or(profile.workload_days);
  require_days(d, "workload certificate lifetime");
  auto inter = pki::Certificate::from_der(irec->der);
  auto inter_key = impl_->open_key(*tx, *irec->key_id);
  const std::string chain_root = impl_->root_pem_of(*tx, irec->issuer_serial);
  const std::string trust = impl_->trust_pem(*tx, s);
  TimePoint now = impl_->clock.now();
  auto key = pki::PrivateKey::generate(profile.workload_key);
  auto [nb, na] = validity(profile, now, d, inter.not_after());
  std::string uri = spiffe_uri(td, r.ns, r.service_account);
  pki::CertificateTemplate t{pki::Serial::random128(), workload_subject(r.ns), nb, na,
                             profile.workload_extensions(uri, profile.workload_key)};
  auto cert = pki::sign_certificate(t, key.public_key(), inter, inter_key);
  auto rec = make_record(cert, CertKind::Workload, r.cluster, irec->serial, profile.name, std::nullopt, false, now);
  tx->certificates().insert(rec);
  impl_->commit(*tx, {{actor, "workload.issue", r.cluster, rec.serial, true,
                       {{"spiffe_id", uri}, {"not_after", rec.not_after}, {"fingerprint_sha256", rec.fingerprint_sha256}}}});
  return {rec.serial, cert.pem(), key.pkcs8_pem(), cert.pem() + inter.pem() + chain_root, trust};
}

std::vector<CertificateRecord> Authority::certificates(const CertificateFilter& filter) {
  auto tx = impl_->read();
  impl_->require_initialized(*tx);
  return tx->certificates().list(filter);
}

std::string Authority::root_pem() {
  const auto epoch = impl_->trust_cache.epoch();
  if (auto hit = impl_->trust_cache.get("trust")) return *hit;
  auto tx = impl_->read();
  auto s = impl_->require_initialized(*tx);
  std::string pem = impl_->trust_pem(*tx, s);
  impl_->trust_cache.put("trust", pem, epoch);
  return pem;
}

std::string Authority::audit_public_key_pem() {
  auto tx = impl_->read();
  auto s = impl_->require_initialized(*tx);
  // The audit key has no certificate; its public half is stored beside the sealed private half
  // so that verifying heads never needs the passphrase.
  auto sealed = tx->keys().find(s.audit_key_id);
  if (!sealed) throw Error(ErrorKind::Storage, "the audit signing key is missing");
  return pki::PublicKey::from_der(sealed->public_der).pem();
}

StatusReport Authority::status() {
  auto due = due_for_rotation();
  auto delivery_report = delivery();
  StatusReport r;
  r.pushes = delivery_report.pushes;
  std::map<std::string, ClusterDelivery> delivered;
  for (auto& d : delivery_report.clusters) delivered.emplace(d.cluster, std::move(d));
  auto tx = impl_->read();
  auto s = impl_->require_initialized(*tx);
  r.root = impl_->root_record(*tx);
  r.trust = s.trust();
  if (auto rot = tx->rotation().get()) r.rotation = rot->phase;
  r.now = to_seconds(impl_->clock.now()).time_since_epoch().count();
  for (auto& c : tx->clusters().list()) {
    ClusterStatus cs{c, std::nullopt, "", {}};
    if (c.current_serial) cs.intermediate = tx->certificates().find(*c.current_serial);
    if (auto it = due.why.find(c.name); it != due.why.end()) cs.rotation_due = it->second;
    if (auto it = delivered.find(c.name); it != delivered.end()) cs.delivery = it->second;
    r.clusters.push_back(std::move(cs));
  }
  return r;
}

std::string to_string(CertKind k) {
  switch (k) {
    case CertKind::Server: return "server";
    case CertKind::Root: return "root";
    case CertKind::Intermediate: return "intermediate";
    case CertKind::Workload: return "workload";
    case CertKind::Client: return "client";
  }
  return "unknown";
}

std::string to_string(CertStatus s) {
  switch (s) {
    case CertStatus::Active: return "active";
    case CertStatus::Superseded: return "superseded";
    case CertStatus::Revoked: return "revoked";
  }
  return "unknown";
}

std::string to_string(RotationPhase p) {
  switch (p) {
    case RotationPhase::TrustBoth: return "trust-both";
    case RotationPhase::Reissuing: return "reissuing";
    case RotationPhase::NewIntermediates: return "new-intermediates";
  }
  return "trust-both";
}

RotationPhase rotation_phase_from(const std::string& s) {
  constexpr RotationPhase kAll[] = {RotationPhase::TrustBoth, RotationPhase::Reissuing, RotationPhase::NewIntermediates};
  if (auto p = enum_from(s, kAll)) return *p;
  throw Error(ErrorKind::Storage, "unknown root rotation phase '" + s + "' in storage");
}

CertKind cert_kind_from(const std::string& s) {
  if (s == "root") return CertKind::Root;
  if (s == "intermediate") return CertKind::Intermediate;
  if (s == "workload") return CertKind::Workload;
  if (s == "server") return CertKind::Server;
  if (s == "client") return CertKind::Client;
  throw Error(ErrorKind::Storage, "unknown certificate kind '" + s + "' in storage");
}

CertStatus cert_status_from(const std::string& s) {
  if (s == "active") return CertStatus::Active;
  if (s == "superseded") return CertStatus::Superseded;
  if (s == "revoked") return CertStatus::Revoked;
  throw Error(ErrorKind::Storage, "unknown certificate status '" + s + "' in storage");
}

}  // namespace meshtrust::ca
