// Internal to ca/: the state and helpers shared by the Authority's source files.
#pragma once

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

inline std::string cert_chain_pem(const pki::Certificate& intermediate, const pki::Certificate& root) {
  return intermediate.pem() + root.pem();
}

// Everything a worker needs to issue one intermediate, read once before the batch starts.
struct IssuerContext {
  const Profile* profile = nullptr;
  pki::Certificate root_cert;
  std::optional<pki::PrivateKey> root_key;
  pki::KeySpec key_spec;
  int days_valid = 0;
};

struct Issued {
  size_t position = 0;
  CertificateRecord record;
  std::optional<SealedKey> key;
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
  std::pair<std::string, std::string> root_pem_cache;  // root serial, PEM

  // Audit-only events from concurrent requests share one transaction per batch.
  GroupCommit events{[this](const std::vector<AuditEvent>& batch) {
    auto tx = write();
    require_initialized(*tx);
    commit(*tx, batch);
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

  // Appends the event, signs a head over the new log and commits: the one way changes land.
  void commit(Transaction& tx, const std::vector<AuditEvent>& events) {
    AuditWriter writer(tx.audit());
    TimePoint now = clock.now();
    for (const auto& e : events) writer.append(e, now);
    writer.sign_head(audit_signer(tx), now);
    tx.commit();
  }

  // A cluster's bundle from its current intermediate's record (key only if stored and wanted).
  Bundle bundle_for(Transaction& tx, const CaSettings& s, const std::string& cluster, const CertificateRecord& rec,
                    bool with_key) {
    auto cert = pki::Certificate::from_der(rec.der);
    pki::Certificate root = root_cert(tx, s);
    Bundle b{cluster, rec.serial, rec.fingerprint_sha256, cert.pem(), cert_chain_pem(cert, root), root.pem(), ""};
    if (with_key && rec.key_id) b.ca_key = open_key(tx, *rec.key_id).pkcs8_pem();
    return b;
  }

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
    auto root_rec = tx.certificates().find(s.root_serial);
    if (!root_rec->key_id) throw Error(ErrorKind::Storage, "the root key is not stored");
    ctx.root_key.emplace(open_key(tx, *root_rec->key_id));
    return ctx;
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
            sealed};
  }

  // Stores issued intermediates and their events in one transaction; re-checks that no other
  // writer issued for the same clusters meanwhile.
  void store_issued(const std::string& actor, const std::vector<Issued>& batch) {
    auto tx = write();
    std::vector<AuditEvent> events;
    for (const auto& item : batch) {
      const auto& rec = item.record;
      auto c = tx->clusters().find(*rec.cluster);
      if (!c) throw conflict("cluster '" + *rec.cluster + "' was removed while its intermediate was being issued");
      if (c->current_serial)
        throw conflict("cluster '" + *rec.cluster + "' got intermediate " + *c->current_serial + " from another writer meanwhile");
      if (item.key) tx->keys().insert(*item.key);
      tx->certificates().insert(rec);
      tx->clusters().set_current_serial(*rec.cluster, rec.serial);
      events.push_back({actor, rec.from_csr ? "intermediate.sign_csr" : "intermediate.issue", rec.cluster, rec.serial,
                        true,
                        {{"profile", rec.profile},
                         {"key_algorithm", rec.key_algorithm},
                         {"not_after", rec.not_after},
                         {"fingerprint_sha256", rec.fingerprint_sha256},
                         {"key_held_by", rec.from_csr ? "cluster" : "meshtrust"}}});
    }
    commit(*tx, events);
  }
};


}  // namespace meshtrust::ca
