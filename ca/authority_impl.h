// Internal to ca/: the state and helpers shared by the Authority's source files.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ca/audit.h"
#include "ca/authority.h"
#include "ca/errors.h"
#include "ca/group_commit.h"
#include "ca/names.h"
#include "ca/profile.h"
#include "pki/builder.h"
#include "pki/crypto.h"
#include "pki/error.h"

namespace meshtrust::ca {

namespace detail {
using std::chrono::days;
using std::chrono::seconds;

inline std::int64_t unix_seconds(pki::Time t) { return t.time_since_epoch().count(); }

inline CertificateRecord make_record(const pki::Certificate& cert, CertKind kind, std::optional<std::string> cluster,
                              const std::string& issuer_serial, const std::string& profile,
                              std::optional<std::string> key_id, bool from_csr, TimePoint now) {
  CertificateRecord r;
  r.serial = cert.serial().hex();
  r.kind = kind;
  r.cluster = std::move(cluster);
  r.subject = cert.subject().to_string();
  r.issuer_serial = issuer_serial;
  r.not_before = unix_seconds(cert.not_before());
  r.not_after = unix_seconds(cert.not_after());
  r.fingerprint_sha256 = cert.sha256_fingerprint();
  r.profile = profile;
  r.key_algorithm = cert.public_key().spec().name();
  r.key_id = std::move(key_id);
  r.from_csr = from_csr;
  r.status = CertStatus::Active;
  r.issued_at_ms = now.time_since_epoch().count();
  r.der = cert.der();
  return r;
}

// The validity window a profile gives a certificate issued now, capped at its issuer's end.
inline std::pair<pki::Time, pki::Time> validity(const Profile& p, TimePoint now, int days_valid,
                                         std::optional<pki::Time> issuer_not_after) {
  pki::Time start = to_seconds(now);
  pki::Time nb = start - p.backdate;
  pki::Time na = start + days(days_valid);
  if (issuer_not_after && na > *issuer_not_after) na = *issuer_not_after;
  if (na <= nb) throw denied("the issuing certificate expires too soon to issue anything under it");
  return {nb, na};
}

// SHA-256 over the public files of a bundle, each framed by its name and length. The key is left
// out: it is fixed by ca-cert.pem, and a digest of key material has no business in annotations.
inline std::string bundle_digest(const Bundle& b) {
  std::string framed;
  for (const auto& [name, body] : {std::pair<const char*, const std::string*>{"ca-cert.pem", &b.ca_cert},
                                   {"cert-chain.pem", &b.cert_chain},
                                   {"root-cert.pem", &b.root_cert},
                                   {"ca-crl.pem", &b.ca_crl}})
    if (!body->empty()) framed += std::string(name) + "\n" + std::to_string(body->size()) + "\n" + *body;
  return pki::to_hex(pki::sha256(pki::as_bytes(framed)));
}

// What was read from the database, kept for up to a second: the REST service's hot paths would
// otherwise read the same rows for every request of a keep-alive client. Only what exists is
// kept, so a map is bounded by its table (and capped).
//
// A miss is read with the epoch taken before the read; put() stores it only if nothing was
// cleared since, so a read that began before a change cannot refill the cache with the old state.
template <class V>
class RecentReads {
 public:
  std::uint64_t epoch() {
    std::lock_guard lock(mu_);
    return epoch_;
  }
  std::optional<V> get(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || std::chrono::steady_clock::now() - it->second.second >= std::chrono::seconds(1))
      return std::nullopt;
    return it->second.first;
  }
  void put(const std::string& key, V value, std::uint64_t read_epoch) {
    std::lock_guard lock(mu_);
    if (read_epoch != epoch_) return;
    if (entries_.size() >= kCap) entries_.clear();
    entries_.insert_or_assign(key, std::pair{std::move(value), std::chrono::steady_clock::now()});
  }
  void clear() {
    std::lock_guard lock(mu_);
    entries_.clear();
    ++epoch_;
  }

 private:
  static constexpr std::size_t kCap = 4096;
  std::mutex mu_;
  std::uint64_t epoch_ = 0;
  std::map<std::string, std::pair<V, std::chrono::steady_clock::time_point>> entries_;
};

// The name of a principal (a token's or a client certificate's): a cluster's name for the
// cluster role, else 1-64 of lowercase letters, digits, '-', '_', '.', '@'.
inline void require_principal_name(Role role, const std::string& name, const std::string& what) {
  if (role == Role::Cluster)
    require_cluster_name(name);
  else if (name.empty() || name.size() > 64 || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.@") != std::string::npos)
    throw invalid(what + " " + ca::quoted(name) + " must be 1-64 of lowercase letters, digits, '-', '_', '.', '@'");
}

inline std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}
// A root someone imports (init, or a root rotation): parsed and checked, each refusal one
// sentence. A CA certificate, a key that matches it and that meshtrust supports, not expired.
inline std::pair<pki::Certificate, pki::PrivateKey> imported_root(const std::string& cert_pem, const std::string& key_pem,
                                                                  TimePoint now) {
  std::optional<pki::Certificate> cert;
  std::optional<pki::PrivateKey> key;
  try {
    cert.emplace(pki::Certificate::from_pem(cert_pem));
  } catch (const pki::Error& e) {
    throw invalid(std::string("the imported root certificate is not usable: ") + e.what());
  }
  try {
    key.emplace(pki::PrivateKey::from_pem(key_pem));
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
  return {std::move(*cert), std::move(*key)};
}

// Everything a worker needs to issue one intermediate, read once before the batch starts.
struct IssuerContext {
  const Profile* profile = nullptr;
  pki::Certificate root_cert;
  std::optional<pki::PrivateKey> root_key;
  pki::KeySpec key_spec;
  int days_valid = 0;
};

// The associated data a cluster's sealed kubeconfig is bound to: a blob moved to another
// cluster's row does not open.
inline std::string kubeconfig_purpose(const std::string& cluster) { return "kubeconfig:" + cluster; }

// An unsealed kubeconfig may hold a token or a client key: overwrite it once used.
inline void wipe_secret(std::string& secret) {
  std::fill(secret.begin(), secret.end(), '\0');
  secret.clear();
}

struct Issued {
  size_t position = 0;
  CertificateRecord record;
  std::optional<SealedKey> key;
  // Rotation: the intermediate this one supersedes (it must still be the cluster's current one
  // when the new one is stored). Empty for a first issuance.
  std::optional<std::string> previous;
};

}  // namespace detail

using namespace detail;

struct Authority::Impl {
  Store& store;
  const Clock& clock;
  KekSecretSource kek_source;
  // Unlocked once, then read by many threads (the server): the mutex guards the first unlock.
  std::recursive_mutex unlock_mu;
  std::optional<KeyVault> vault;
  std::optional<pki::PrivateKey> audit_key;

  // Delivered bundles by intermediate serial: a serial's certificate, chain and key never change,
  // so decoding them once serves every later delivery (the server holds the KEK anyway).
  std::mutex bundle_cache_mu;
  std::map<std::string, Bundle> bundle_cache;

  // The REST service's per-request reads, kept for up to a second (RecentReads): token records
  // by id (the secret's hash is still compared on every request), client certificates by
  // fingerprint, the trust bundle, and each cluster's current bundle. Another process's change
  // to the same data dir is seen within a second; every change this process commits drops them
  // all at once (commit()), so a revoke or rotation through the server applies to the next request.
  struct ClientCertificate {
    CertificateRecord record;
    bool issuer_trusted = false;
  };
  RecentReads<TokenRecord> token_cache;
  RecentReads<ClientCertificate> client_cert_cache;
  RecentReads<std::string> trust_cache;
  RecentReads<Bundle> delivery_cache;
  void state_changed() {
    token_cache.clear();
    client_cert_cache.clear();
    trust_cache.clear();
    delivery_cache.clear();
  }

  std::optional<TokenRecord> token_record(const std::string& id) {
    const auto epoch = token_cache.epoch();
    if (auto hit = token_cache.get(id)) return hit;
    std::optional<TokenRecord> rec = read()->tokens().find(id);
    if (rec) token_cache.put(id, *rec, epoch);
    return rec;
  }

  // A client certificate by fingerprint, with whether its issuer is still a trusted root.
  std::optional<ClientCertificate> client_certificate(const std::string& fingerprint) {
    const auto epoch = client_cert_cache.epoch();
    if (auto hit = client_cert_cache.get(fingerprint)) return hit;
    auto tx = read();
    auto rec = tx->certificates().find_by_fingerprint(fingerprint);
    if (!rec || rec->kind != CertKind::Client) return std::nullopt;
    auto trust = require_initialized(*tx).trust();
    ClientCertificate c{*rec, std::find(trust.begin(), trust.end(), rec->issuer_serial) != trust.end()};
    client_cert_cache.put(fingerprint, c, epoch);
    return c;
  }

  // Audit-only events from concurrent requests share one transaction per batch. They change no
  // state the caches hold, so they leave them alone.
  GroupCommit events{[this](const std::vector<AuditEvent>& batch) {
    auto tx = write();
    require_initialized(*tx);
    append_and_commit(*tx, batch);
  }};

  Impl(Store& s, const Clock& c, KekSecretSource k) : store(s), clock(c), kek_source(std::move(k)) {}

  std::unique_ptr<Transaction> read() { return store.begin(Store::Mode::Read); }
  std::unique_ptr<Transaction> write() { return store.begin(Store::Mode::Write); }

  CaSettings require_initialized(Transaction& tx) {
    auto s = tx.settings().ca();
    if (!s) throw Error(ErrorKind::NotFound, "the data dir is not initialised; run 'meshtrust init' first");
    return *s;
  }

  const KeyVault& unlock(Transaction& tx) {
    std::lock_guard lock(unlock_mu);
    if (vault) return *vault;
    auto settings = tx.settings().kek();
    if (!settings) throw Error(ErrorKind::NotFound, "the data dir is not initialised; run 'meshtrust init' first");
    vault.emplace(KeyVault::unlock(*settings, kek_source(settings->mode)));
    return *vault;
  }

  pki::PrivateKey open_key(Transaction& tx, const std::string& key_id) {
    auto sealed = tx.keys().find(key_id);
    if (!sealed) throw Error(ErrorKind::Storage, "stored key " + key_id + " is missing");
    return unlock(tx).open(*sealed);
  }

  const pki::PrivateKey& audit_signer(Transaction& tx) {
    std::lock_guard lock(unlock_mu);
    if (!audit_key) audit_key.emplace(open_key(tx, require_initialized(tx).audit_key_id));
    return *audit_key;
  }

  pki::Certificate root_cert(Transaction& tx, const CaSettings& s) {
    auto rec = tx.certificates().find(s.root_serial);
    if (!rec) throw Error(ErrorKind::Storage, "the root certificate record is missing");
    return pki::Certificate::from_der(rec->der);
  }

  CertificateRecord root_record(Transaction& tx) {
    auto s = require_initialized(tx);
    auto rec = tx.certificates().find(s.root_serial);
    if (!rec) throw Error(ErrorKind::Storage, "the root certificate record is missing");
    return *rec;
  }

  // Appends the events, signs a head over the new log and commits: the one way changes land.
  void commit(Transaction& tx, const std::vector<AuditEvent>& events) {
    append_and_commit(tx, events);
    state_changed();
  }
  void append_and_commit(Transaction& tx, const std::vector<AuditEvent>& events) {
    AuditWriter writer(tx.audit());
    TimePoint now = clock.now();
    for (const auto& e : events) writer.append(e, now);
    writer.sign_head(audit_signer(tx), now);
    tx.commit();
  }

  // A certificate a caller names: its serial must be lowercase hex, and unknown is NotFound.
  CertificateRecord find_certificate(Transaction& tx, const std::string& serial) {
    if (serial.empty() || serial.size() > 40 || serial.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw invalid("serial " + ca::quoted(serial) + " is not lowercase hex");
    auto rec = tx.certificates().find(serial);
    if (!rec) throw not_found("no certificate with serial " + serial);
    return *rec;
  }

  // A certificate the data dir refers to: missing is damage (Storage).
  CertificateRecord require_certificate(Transaction& tx, const std::string& serial, const char* what) {
    auto rec = tx.certificates().find(serial);
    if (!rec) throw Error(ErrorKind::Storage, std::string(what) + " " + serial + " is missing");
    return *rec;
  }

  // A root's canonical PEM by serial. A certificate never changes once stored, so it is read
  // from the database once per process (bundles for a whole fleet share one or two roots).
  std::mutex root_pems_mu;
  std::map<std::string, std::string> root_pems;
  std::string root_pem_of(Transaction& tx, const std::string& serial) {
    {
      std::lock_guard lock(root_pems_mu);
      if (auto it = root_pems.find(serial); it != root_pems.end()) return it->second;
    }
    std::string pem = pki::to_pem("CERTIFICATE", require_certificate(tx, serial, "root").der);
    std::lock_guard lock(root_pems_mu);
    if (root_pems.size() > 64) root_pems.clear();  // roots are few; bounded all the same
    return root_pems.emplace(serial, pem).first->second;
  }

  // root-cert.pem: every trusted root, canonical PEM, in the order of the settings (old, new
  // during a rotation), so the bytes are identical in every bundle.
  std::string trust_pem(Transaction& tx, const CaSettings& s) {
    std::string pem;
    for (const auto& serial : s.trust()) pem += root_pem_of(tx, serial);
    return pem;
  }

  // ca-crl.pem: a CRL for each certificate of cert-chain.pem (istiod's rule), i.e. the issuing
  // root's and the intermediate's own; "" when off, or when either has none yet.
  std::string bundle_crl_pem(Transaction& tx, const CaSettings& s, const CertificateRecord& inter) {
    if (!s.bundle_crl) return "";
    auto root_crl = tx.crls().latest(inter.issuer_serial);
    auto own_crl = tx.crls().latest(inter.serial);
    if (!root_crl || !own_crl) return "";
    return pki::to_pem("X509 CRL", root_crl->der) + pki::to_pem("X509 CRL", own_crl->der);
  }

  // The public files of an intermediate's bundle, from stored DER (nothing is decoded): the
  // chain is the intermediate and the root that issued it; root-cert.pem is every trusted root.
  Bundle public_bundle(Transaction& tx, const CaSettings& s, const std::string& cluster, const CertificateRecord& rec) {
    Bundle b;
    b.cluster = cluster;
    b.serial = rec.serial;
    b.fingerprint_sha256 = rec.fingerprint_sha256;
    b.ca_cert = pki::to_pem("CERTIFICATE", rec.der);
    b.cert_chain = b.ca_cert + root_pem_of(tx, rec.issuer_serial);
    b.root_cert = trust_pem(tx, s);
    b.ca_crl = bundle_crl_pem(tx, s, rec);
    b.bundle_sha256 = bundle_digest(b);
    return b;
  }

  // A cluster's bundle from an intermediate's record (key only if stored and wanted).
  Bundle bundle_for(Transaction& tx, const CaSettings& s, const std::string& cluster, const CertificateRecord& rec,
                    bool with_key) {
    Bundle b = public_bundle(tx, s, cluster, rec);
    if (with_key && rec.key_id) {
      auto sealed = tx.keys().find(*rec.key_id);
      if (!sealed) throw Error(ErrorKind::Storage, "stored key " + *rec.key_id + " is missing");
      b.ca_key = unlock(tx).open_pem(*sealed);
    }
    return b;
  }

  // The bundle of intermediate `serial` for `cluster`, decoded once and then served from memory.
  // A serial's certificate, chain and key never change; what can is the trust (root rotation)
  // and the CRLs, so they are part of the cache key.
  Bundle cached_bundle(Transaction& tx, const CaSettings& s, const std::string& cluster, const std::string& serial) {
    std::string cache_key = serial + "/" + join(s.trust(), ",");
    if (s.bundle_crl) {
      auto rec = require_certificate(tx, serial, "intermediate");
      auto a = tx.crls().latest(rec.issuer_serial), b = tx.crls().latest(serial);
      cache_key += "/crl:" + (a ? std::to_string(a->number) : "-") + ":" + (b ? std::to_string(b->number) : "-");
    }
    {
      std::lock_guard lock(bundle_cache_mu);
      if (auto it = bundle_cache.find(cache_key); it != bundle_cache.end()) return it->second;
    }
    Bundle b = bundle_for(tx, s, cluster, require_certificate(tx, serial, "intermediate"), true);
    std::lock_guard lock(bundle_cache_mu);
    if (bundle_cache.size() > 100000) bundle_cache.clear();  // bounded
    bundle_cache[cache_key] = b;
    return b;
  }

  // Stores a root rotation step in `tx`: the settings, the rotation's state (nullopt: it is
  // over) and its events.
  void store_rotation(Transaction& tx, const CaSettings& s, const std::optional<RootRotationRecord>& r,
                      const std::vector<AuditEvent>& events) {
    tx.settings().put_ca(s);
    if (r)
      tx.rotation().put(*r);
    else
      tx.rotation().clear();
    commit(tx, events);
  }

  // Whether bundles carry ca-crl.pem (config bundle-crl).
  bool bundle_crl_on() {
    auto tx = read();
    return require_initialized(*tx).bundle_crl;
  }

  // Cluster `c` as a push target, its kubeconfig unsealed (the caller wipes it with
  // wipe_secret once used); nullopt when it has none.
  std::optional<PushTarget> push_target(Transaction& tx, const ClusterRecord& c) {
    auto sealed = tx.clusters().sealed_access(c.name);
    if (!c.access || !sealed) return std::nullopt;
    pki::Bytes kubeconfig = unlock(tx).open_blob(*sealed, kubeconfig_purpose(c.name));
    ClusterAccessSpec access = *c.access;
    access.kubeconfig.assign(kubeconfig.begin(), kubeconfig.end());
    pki::wipe(kubeconfig);
    return PushTarget{c.name, c.ns, c.secret_name, std::move(access)};
  }

  // Signs and stores the next CRL of `issuer`; returns it and its audit event (authority_lifecycle.cpp).
  std::pair<CrlRecord, AuditEvent> next_crl(Transaction& tx, const CaSettings& s, const CertificateRecord& issuer,
                                            const std::string& actor);

  // What the reconcile loop last saw of istiod taking the roots up, per cluster.
  std::mutex observed_mu;
  std::map<std::string, RootsStatus> observed_roots;
  std::map<PushResult, std::uint64_t> push_counts;

  ClusterRecord require_cluster(Transaction& tx, const std::string& name) {
    require_cluster_name(name);
    auto c = tx.clusters().find(name);
    if (!c) throw not_found(unregistered_cluster_message(name));
    return *c;
  }

  IssuerContext issuer_context(Transaction& tx, const IssueOptions& o) {
    auto s = require_initialized(tx);
    IssuerContext ctx{&Profile::get(o.profile.value_or(s.default_profile)), root_cert(tx, s), std::nullopt, {}, 0};
    ctx.key_spec = o.key_algorithm ? parse_key_spec(*o.key_algorithm) : ctx.profile->intermediate_key;
    ctx.days_valid = o.days.value_or(ctx.profile->intermediate_days);
    require_days(ctx.days_valid, "intermediate lifetime");
    ctx.root_key.emplace(signing_root_key(tx, s));
    return ctx;
  }

  // The key of the root that signs new certificates.
  pki::PrivateKey signing_root_key(Transaction& tx, const CaSettings& s) {
    auto rec = require_certificate(tx, s.root_serial, "the root certificate");
    if (!rec.key_id) throw Error(ErrorKind::Storage, "the root key is not stored");
    return open_key(tx, *rec.key_id);
  }

  // A TLS leaf under the signing root — the REST server's own certificate or a client's: CA:FALSE
  // and digitalSignature, both critical, with the EKU and names `ext` brings; the default
  // profile's backdating, capped at the root's end. The caller stores the record.
  struct TlsLeaf {
    pki::Certificate cert, root;
    CertificateRecord record;
  };
  TlsLeaf sign_tls_leaf(Transaction& tx, const CaSettings& s, const pki::PublicKey& key, pki::DistinguishedName subject,
                        pki::Extensions ext, int days, CertKind kind, const std::string& profile, bool from_csr) {
    pki::Certificate root = root_cert(tx, s);
    auto root_key = signing_root_key(tx, s);
    TimePoint now = clock.now();
    auto [nb, na] = validity(Profile::get("default"), now, days, root.not_after());
    ext.basic_constraints = pki::BasicConstraints{false, std::nullopt, true};
    ext.key_usage = pki::KeyUsage{pki::kDigitalSignature, true};
    pki::CertificateTemplate t{pki::Serial::random128(), std::move(subject), nb, na, std::move(ext)};
    auto cert = pki::sign_certificate(t, key, root, root_key);
    auto rec = make_record(cert, kind, std::nullopt, root.serial().hex(), profile, std::nullopt, from_csr, now);
    return {std::move(cert), std::move(root), std::move(rec)};
  }

  static pki::KeySpec parse_key_spec(const std::string& name) {
    try {
      return pki::KeySpec::parse(name);
    } catch (const pki::Error& e) {
      throw invalid(e.what());
    }
  }

  pki::Certificate sign_intermediate(const IssuerContext& ctx, const std::string& cluster, const pki::PublicKey& key,
                                     TimePoint now) {
    auto [nb, na] = validity(*ctx.profile, now, ctx.days_valid, ctx.root_cert.not_after());
    pki::CertificateTemplate t{pki::Serial::random128(), intermediate_subject(cluster), nb, na,
                               ctx.profile->intermediate_extensions()};
    return pki::sign_certificate(t, key, ctx.root_cert, *ctx.root_key);
  }

  Issued issue_one(const IssuerContext& ctx, const std::string& name, size_t position) {
    TimePoint now = clock.now();
    auto key = pki::PrivateKey::generate(ctx.key_spec);
    auto cert = sign_intermediate(ctx, name, key.public_key(), now);
    SealedKey sealed = vault->seal(key);
    return {position,
            make_record(cert, CertKind::Intermediate, name, ctx.root_cert.serial().hex(), ctx.profile->name, sealed.id,
                        false, now),
            sealed, std::nullopt};
  }

  // Stores issued intermediates and their events in one transaction; re-checks that no other
  // writer issued for (or rotated) the same clusters meanwhile. A rotated cluster's previous
  // intermediate becomes superseded, not revoked: workload certificates it signed keep verifying.
  void store_issued(const std::string& actor, const std::vector<Issued>& batch) {
    auto tx = write();
    std::vector<AuditEvent> events;
    for (const auto& item : batch) {
      const auto& rec = item.record;
      auto c = tx->clusters().find(*rec.cluster);
      if (!c) throw conflict("cluster '" + *rec.cluster + "' was removed while its intermediate was being issued");
      if (c->current_serial != item.previous)
        throw conflict("cluster '" + *rec.cluster + "' got intermediate " + c->current_serial.value_or("(none)") +
                       " from another writer meanwhile");
      if (item.key) tx->keys().insert(*item.key);
      tx->certificates().insert(rec);
      tx->clusters().set_current_serial(*rec.cluster, rec.serial);
      nlohmann::json details = {{"profile", rec.profile},
                                {"key_algorithm", rec.key_algorithm},
                                {"not_after", rec.not_after},
                                {"fingerprint_sha256", rec.fingerprint_sha256},
                                {"issuer_serial", rec.issuer_serial},
                                {"key_held_by", rec.from_csr ? "cluster" : "meshtrust"}};
      std::string action = rec.from_csr ? "intermediate.sign_csr" : "intermediate.issue";
      if (item.previous) {
        auto old = tx->certificates().find(*item.previous);
        if (old && old->status == CertStatus::Active) tx->certificates().set_status(*item.previous, CertStatus::Superseded);
        details["previous_serial"] = *item.previous;
        action = rec.from_csr ? "intermediate.rotate_csr" : "intermediate.rotate";
      }
      events.push_back({actor, action, rec.cluster, rec.serial, true, details});
    }
    commit(*tx, events);
  }
};


}  // namespace meshtrust::ca
