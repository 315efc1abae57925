#include "ca/authority.h"

#include "ca/authority_impl.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "ca/audit.h"
#include "ca/audit_verify.h"
#include "ca/merkle.h"
#include "ca/errors.h"
#include "ca/names.h"
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
    try {
      cert.emplace(pki::Certificate::from_pem(*o.import_cert_pem));
    } catch (const pki::Error& e) {
      throw invalid(std::string("the imported root certificate is not usable: ") + e.what());
    }
    try {
      key.emplace(pki::PrivateKey::from_pem(*o.import_key_pem));
    } catch (const pki::Error& e) {
      throw invalid(std::string("the imported root key is not usable: ") + e.what());
    }
    if (!cert->is_ca()) throw invalid("the imported certificate is not a CA (basicConstraints CA:TRUE is missing)");
    if (!key->matches(cert->public_key())) throw invalid("the imported key does not match the imported certificate");
    try {
      cert->public_key().spec();
    } catch (const pki::Error& e) {
      throw invalid(std::string("the imported root's key: ") + e.what());
    }
    if (cert->not_after() <= to_seconds(now)) throw invalid("the imported root certificate has expired");
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
  tx->settings().put_ca({rec.serial, profile.name, sealed_audit.id, o.trust_domain});
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
  impl_->commit(*tx, {{actor, "cluster.add", c.name, std::nullopt, true, {{"namespace", c.ns}, {"secret_name", c.secret_name}}}});
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
  if (names.empty()) throw invalid("name at least one cluster to issue for");
  std::optional<IssuerContext> ctx;
  {
    auto tx = impl_->read();
    impl_->require_initialized(*tx);
    std::set<std::string> seen;
    for (const auto& n : names) {
      auto c = impl_->require_cluster(*tx, n);
      if (!seen.insert(n).second) throw invalid("cluster '" + n + "' is named twice");
      if (c.current_serial)
        throw denied("cluster '" + n + "' already has intermediate " + *c.current_serial +
                     "; rotating it is a separate step");
    }
    ctx.emplace(impl_->issuer_context(*tx, options));
    impl_->audit_signer(*tx);
  }

  // Workers generate keys and sign (the expensive part, in parallel on every core); this
  // thread stores what they finish, grouping whatever is ready into one commit.
  const size_t total = names.size();
  const size_t workers = std::max<size_t>(1, std::min<size_t>(std::thread::hardware_concurrency(), total));
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable ready;
  std::deque<Issued> done_queue;
  std::exception_ptr failure;
  size_t finished_workers = 0;

  auto work = [&] {
    try {
      for (size_t i; !stop && (i = next++) < total;) {
        Issued item = impl_->issue_one(*ctx, names[i], i);
        std::lock_guard lock(mu);
        done_queue.push_back(std::move(item));
        ready.notify_one();
      }
    } catch (...) {
      std::lock_guard lock(mu);
      if (!failure) failure = std::current_exception();
      stop = true;
    }
    std::lock_guard lock(mu);
    ++finished_workers;
    ready.notify_one();
  };
  std::vector<std::jthread> pool;
  for (size_t w = 0; w < workers; ++w) pool.emplace_back(work);

  std::vector<std::optional<CertificateRecord>> by_position(total);  // answered in the order given
  size_t done = 0;
  try {
    while (true) {
      std::vector<Issued> batch;
      {
        std::unique_lock lock(mu);
        ready.wait(lock, [&] { return !done_queue.empty() || finished_workers == workers; });
        if (done_queue.empty()) break;
        while (!done_queue.empty() && batch.size() < 512) {
          batch.push_back(std::move(done_queue.front()));
          done_queue.pop_front();
        }
      }
      impl_->store_issued(actor, batch);
      for (auto& item : batch) {
        by_position[item.position] = std::move(item.record);
        ++done;
        if (progress) progress(done, total, *by_position[item.position]);
      }
    }
  } catch (...) {
    stop = true;
    pool.clear();  // joins
    throw;
  }
  pool.clear();
  if (failure) std::rethrow_exception(failure);
  std::vector<CertificateRecord> issued;
  issued.reserve(total);
  for (auto& r : by_position) issued.push_back(std::move(*r));
  return issued;
}

CertificateRecord Authority::issue_from_csr(const std::string& actor, const std::string& name, const std::string& csr_pem,
                                            const IssueOptions& options) {
  if (options.key_algorithm) throw invalid("--key-algorithm does not apply to a CSR: the cluster chose its key");
  std::optional<pki::CertificateRequest> csr;
  try {
    csr.emplace(pki::CertificateRequest::from_pem(csr_pem));
  } catch (const pki::Error& e) {
    throw invalid(std::string("the CSR for cluster '") + name + "' is not acceptable: " + e.what());
  }
  std::optional<IssuerContext> ctx;
  {
    auto tx = impl_->read();
    impl_->require_initialized(*tx);
    auto c = impl_->require_cluster(*tx, name);
    if (c.current_serial)
      throw denied("cluster '" + name + "' already has intermediate " + *c.current_serial + "; rotating it is a separate step");
    ctx.emplace(impl_->issuer_context(*tx, options));
    impl_->audit_signer(*tx);
  }
  TimePoint now = impl_->clock.now();
  auto cert = impl_->sign_intermediate(*ctx, name, csr->public_key(), now);
  auto rec = make_record(cert, CertKind::Intermediate, name, ctx->root_cert.serial().hex(), ctx->profile->name,
                         std::nullopt, true, now);
  impl_->store_issued(actor, {{0, rec, std::nullopt}});
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
  const Profile& profile = Profile::get(irec->profile);
  int d = r.days.value_or(profile.workload_days);
  require_days(d, "workload certificate lifetime");
  auto inter = pki::Certificate::from_der(irec->der);
  auto inter_key = impl_->open_key(*tx, *irec->key_id);
  pki::Certificate root = impl_->root_cert(*tx, s);
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
  return {rec.serial, cert.pem(), key.pkcs8_pem(), cert.pem() + inter.pem() + root.pem(), root.pem()};
}

std::vector<CertificateRecord> Authority::certificates(const CertificateFilter& filter) {
  auto tx = impl_->read();
  impl_->require_initialized(*tx);
  return tx->certificates().list(filter);
}

std::string Authority::root_pem() {
  auto tx = impl_->read();
  auto s = impl_->require_initialized(*tx);
  // Parsing a certificate costs OpenSSL 3 a provider look-up; the trust bundle is asked for on
  // every cluster's start-up, so keep its PEM per root serial.
  std::lock_guard lock(impl_->bundle_cache_mu);
  if (impl_->root_pem_cache.first != s.root_serial) impl_->root_pem_cache = {s.root_serial, impl_->root_cert(*tx, s).pem()};
  return impl_->root_pem_cache.second;
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
  auto tx = impl_->read();
  StatusReport r;
  r.root = impl_->root_record(*tx);
  r.now = to_seconds(impl_->clock.now()).time_since_epoch().count();
  for (auto& c : tx->clusters().list()) {
    ClusterStatus cs{c, std::nullopt};
    if (c.current_serial) cs.intermediate = tx->certificates().find(*c.current_serial);
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

CertKind cert_kind_from(const std::string& s) {
  if (s == "root") return CertKind::Root;
  if (s == "intermediate") return CertKind::Intermediate;
  if (s == "workload") return CertKind::Workload;
  if (s == "server") return CertKind::Server;
  throw Error(ErrorKind::Storage, "unknown certificate kind '" + s + "' in storage");
}

CertStatus cert_status_from(const std::string& s) {
  if (s == "active") return CertStatus::Active;
  if (s == "superseded") return CertStatus::Superseded;
  if (s == "revoked") return CertStatus::Revoked;
  throw Error(ErrorKind::Storage, "unknown certificate status '" + s + "' in storage");
}

}  // namespace meshtrust::ca
