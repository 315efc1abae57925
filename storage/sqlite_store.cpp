#include "storage/sqlite_store.h"

#include <algorithm>
#include <climits>
#include <functional>

#include <nlohmann/json.hpp>

#include "ca/errors.h"
#include "storage/migrations.h"

namespace meshtrust::storage {

namespace {

using nlohmann::json;

// The one row a bound statement finds, read by `read`, or nullopt; and all of them, in order.
template <class Read>
auto one_row(Statement& st, Read read) -> std::optional<decltype(read(st))> {
  if (!st.step()) return std::nullopt;
  auto row = read(st);
  st.reset();
  return row;
}
template <class Read>
auto all_rows(Statement& st, Read read) {
  std::vector<decltype(read(st))> out;
  while (st.step()) out.push_back(read(st));
  return out;
}

class Certificates final : public ca::CertificateRepository {
 public:
  explicit Certificates(Database& db) : db_(db) {}

  void insert(const ca::CertificateRecord& r) override {
    db_.prepare(
           "INSERT INTO certificates (serial, kind, cluster, subject, issuer_serial, not_before, not_after, fingerprint, "
           "profile, key_algorithm, key_id, from_csr, status, issued_at_ms, der, principal) "
           "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)")
        .bind(1, r.serial)
        .bind(2, ca::to_string(r.kind))
        .bind(3, r.cluster)
        .bind(4, r.subject)
        .bind(5, r.issuer_serial)
        .bind(6, r.not_before)
        .bind(7, r.not_after)
        .bind(8, r.fingerprint_sha256)
        .bind(9, r.profile)
        .bind(10, r.key_algorithm)
        .bind(11, r.key_id)
        .bind(12, std::int64_t{r.from_csr})
        .bind(13, ca::to_string(r.status))
        .bind(14, r.issued_at_ms)
        .bind(15, r.der)
        .bind(16, r.principal)
        .run();
  }

  std::optional<ca::CertificateRecord> find(const std::string& serial) override {
    auto& st = db_.prepare(std::string(kSelect) + " WHERE serial = ?1");
    st.bind(1, serial);
    return one_row(st, read);
  }

  std::optional<ca::CertificateRecord> find_by_fingerprint(const std::string& fingerprint) override {
    auto& st = db_.prepare(std::string(kSelect) + " WHERE fingerprint = ?1");
    st.bind(1, fingerprint);
    return one_row(st, read);
  }

  std::vector<ca::CertificateRecord> list(const ca::CertificateFilter& f) override {
    auto& st = db_.prepare(std::string(kSelect) +
                           " WHERE (?1 IS NULL OR cluster = ?1) AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR status = ?3)"
                           " AND (?4 IS NULL OR not_after < ?4) ORDER BY issued_at_ms, serial");
    st.bind(1, f.cluster);
    if (f.kind) st.bind(2, ca::to_string(*f.kind));
    if (f.status) st.bind(3, ca::to_string(*f.status));
    if (f.not_after_before) st.bind(4, *f.not_after_before);
    return all_rows(st, read);
  }

  void set_status(const std::string& serial, ca::CertStatus status) override {
    db_.prepare("UPDATE certificates SET status = ?2 WHERE serial = ?1").bind(1, serial).bind(2, ca::to_string(status)).run();
  }

 private:
  static constexpr const char* kSelect =
      "SELECT serial, kind, cluster, subject, issuer_serial, not_before, not_after, fingerprint, profile, key_algorithm, "
      "key_id, from_csr, status, issued_at_ms, der, principal FROM certificates";

  static ca::CertificateRecord read(Statement& st) {
    ca::CertificateRecord r;
    r.serial = st.text(0);
    r.kind = ca::cert_kind_from(st.text(1));
    r.cluster = st.opt_text(2);
    r.subject = st.text(3);
    r.issuer_serial = st.text(4);
    r.not_before = st.int64(5);
    r.not_after = st.int64(6);
    r.fingerprint_sha256 = st.text(7);
    r.profile = st.text(8);
    r.key_algorithm = st.text(9);
    r.key_id = st.opt_text(10);
    r.from_csr = st.int64(11) != 0;
    r.status = ca::cert_status_from(st.text(12));
    r.issued_at_ms = st.int64(13);
    r.der = st.blob(14);
    r.principal = st.opt_text(15);
    return r;
  }

  Database& db_;
};

class Keys final : public ca::KeyRepository {
 public:
  explicit Keys(Database& db) : db_(db) {}
  void insert(const ca::SealedKey& k) override {
    db_.prepare("INSERT OR IGNORE INTO keys (id, algorithm, public_key, sealed) VALUES (?1, ?2, ?3, ?4)")
        .bind(1, k.id)
        .bind(2, k.algorithm)
        .bind(3, k.public_der)
        .bind(4, k.sealed)
        .run();
  }
  std::optional<ca::SealedKey> find(const std::string& id) override {
    auto& st = db_.prepare("SELECT id, algorithm, public_key, sealed FROM keys WHERE id = ?1");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    ca::SealedKey k{st.text(0), st.text(1), st.blob(2), st.blob(3)};
    st.reset();
    return k;
  }

 private:
  Database& db_;
};

class Clusters final : public ca::ClusterRepository {
 public:
  explicit Clusters(Database& db) : db_(db) {}
  void insert(const ca::ClusterRecord& c) override {
    db_.prepare("INSERT INTO clusters (name, namespace, secret_name, created_at_ms, current_serial) VALUES (?1,?2,?3,?4,?5)")
        .bind(1, c.name)
        .bind(2, c.ns)
        .bind(3, c.secret_name)
        .bind(4, c.created_at_ms)
        .bind(5, c.current_serial)
        .run();
  }
  std::optional<ca::ClusterRecord> find(const std::string& name) override {
    auto& st = db_.prepare(std::string(kSelect) + " WHERE name = ?1");
    st.bind(1, name);
    return one_row(st, read);
  }
  std::vector<ca::ClusterRecord> list() override {
    auto& st = db_.prepare(std::string(kSelect) + " ORDER BY name");
    return all_rows(st, read);
  }
  void remove(const std::string& name) override { db_.prepare("DELETE FROM clusters WHERE name = ?1").bind(1, name).run(); }
  void set_current_serial(const std::string& name, const std::optional<std::string>& serial) override {
    db_.prepare("UPDATE clusters SET current_serial = ?2 WHERE name = ?1").bind(1, name).bind(2, serial).run();
  }
  void set_access(const std::string& name, const ca::ClusterAccessSpec& d, const pki::Bytes& sealed) override {
    db_.prepare(
           "UPDATE clusters SET access_sealed = ?2, access_context = ?3, access_server = ?4, access_auth = ?5, "
           "access_insecure = ?6 WHERE name = ?1")
        .bind(1, name)
        .bind(2, sealed)
        .bind(3, d.context)
        .bind(4, d.server)
        .bind(5, d.auth)
        .bind(6, std::int64_t{d.insecure})
        .run();
  }
  std::optional<pki::Bytes> sealed_access(const std::string& name) override {
    auto& st = db_.prepare("SELECT access_sealed FROM clusters WHERE name = ?1 AND access_sealed IS NOT NULL");
    st.bind(1, name);
    if (!st.step()) return std::nullopt;
    auto b = st.blob(0);
    st.reset();
    return b;
  }

 private:
  static constexpr const char* kSelect =
      "SELECT name, namespace, secret_name, created_at_ms, current_serial, access_sealed IS NOT NULL, access_context, "
      "access_server, access_auth, access_insecure FROM clusters";
  static ca::ClusterRecord read(Statement& st) {
    ca::ClusterRecord c{st.text(0), st.text(1), st.text(2), st.int64(3), st.opt_text(4), std::nullopt};
    if (st.int64(5) != 0)
      c.access = ca::ClusterAccessSpec{"", st.text(6), st.text(7), st.text(8), st.int64(9) != 0};
    return c;
  }
  Database& db_;
};

class Settings final : public ca::SettingsRepository {
 public:
  explicit Settings(Database& db) : db_(db) {}

  std::optional<ca::KekSettings> kek() override {
    auto j = get("kek");
    if (!j) return std::nullopt;
    ca::KekSettings s;
    s.mode = j->at("mode") == "passphrase" ? ca::KekSettings::Mode::Passphrase : ca::KekSettings::Mode::File;
    s.salt = pki::from_hex(j->at("salt").get<std::string>());
    s.scrypt_n = j->at("scrypt_n");
    s.scrypt_r = j->at("scrypt_r");
    s.scrypt_p = j->at("scrypt_p");
    s.check = pki::from_hex(j->at("check").get<std::string>());
    return s;
  }
  void put_kek(const ca::KekSettings& s) override {
    put("kek", {{"mode", s.mode == ca::KekSettings::Mode::Passphrase ? "passphrase" : "file"},
                {"salt", pki::to_hex(s.salt)},
                {"scrypt_n", s.scrypt_n},
                {"scrypt_r", s.scrypt_r},
                {"scrypt_p", s.scrypt_p},
                {"check", pki::to_hex(s.check)}});
  }
  std::optional<ca::CaSettings> ca() override {
    auto j = get("ca");
    if (!j) return std::nullopt;
    try {
      ca::CaSettings s;
      s.root_serial = j->at("root_serial");
      s.default_profile = j->at("default_profile");
      s.audit_key_id = j->at("audit_key_id");
      s.trust_domain = j->at("trust_domain");
      // Written by later versions; absent in data dirs made before them.
      s.trust_roots = j->value("trust_roots", std::vector<std::string>{});
      s.bundle_crl = j->value("bundle_crl", false);
      s.crl_days = j->value("crl_days", 7);
      s.renew_percent = j->value("renew_percent", 33);
      return s;
    } catch (const json::exception&) {
      throw ca::Error(ca::ErrorKind::Storage, "setting 'ca' in the database is corrupt");
    }
  }
  void put_ca(const ca::CaSettings& s) override {
    put("ca", {{"root_serial", s.root_serial},
               {"default_profile", s.default_profile},
               {"audit_key_id", s.audit_key_id},
               {"trust_domain", s.trust_domain},
               {"trust_roots", s.trust_roots},
               {"bundle_crl", s.bundle_crl},
               {"crl_days", s.crl_days},
               {"renew_percent", s.renew_percent}});
  }

 private:
  std::optional<json> get(const std::string& name) {
    auto& st = db_.prepare("SELECT value FROM settings WHERE name = ?1");
    st.bind(1, name);
    if (!st.step()) return std::nullopt;
    std::string text = st.text(0);
    st.reset();
    try {
      return json::parse(text);
    } catch (const json::exception&) {
      throw ca::Error(ca::ErrorKind::Storage, "setting '" + name + "' in the database is corrupt");
    }
  }
  void put(const std::string& name, const json& value) {
    db_.prepare("INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value")
        .bind(1, name)
        .bind(2, value.dump())
        .run();
  }
  Database& db_;
};

class Audit final : public ca::AuditRepository {
 public:
  explicit Audit(Database& db) : db_(db) {}

  std::uint64_t size() override {
    auto& st = db_.prepare("SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_events");
    st.step();
    auto n = static_cast<std::uint64_t>(st.int64(0));
    st.reset();
    return n;
  }

  void append(const ca::AuditRecord& r) override {
    db_.prepare(
           "INSERT INTO audit_events (idx, time_ms, actor, action, cluster, serial, outcome, leaf, leaf_hash) "
           "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)")
        .bind(1, static_cast<std::int64_t>(r.index))
        .bind(2, r.time_ms)
        .bind(3, r.actor)
        .bind(4, r.action)
        .bind(5, r.cluster)
        .bind(6, r.serial)
        .bind(7, r.outcome)
        .bind(8, pki::Bytes(r.leaf.begin(), r.leaf.end()))
        .bind(9, r.leaf_hash)
        .run();
  }

  std::optional<ca::AuditRecord> get(std::uint64_t index) override {
    auto& st = db_.prepare(std::string(kSelect) + " WHERE idx = ?1");
    st.bind(1, static_cast<std::int64_t>(index));
    return one_row(st, read);
  }

  std::vector<ca::AuditRecord> query(const ca::AuditFilter& f) override {
    // Turn the time window into an index range (times never decrease along the log).
    std::int64_t lo = static_cast<std::int64_t>(f.after_index);
    std::optional<std::int64_t> hi;
    if (f.since_ms) lo = std::max(lo, first_index_at_or_after(*f.since_ms).value_or(INT64_MAX));
    if (f.until_ms) hi = first_index_at_or_after(*f.until_ms);
    // Only the conditions in use go into the SQL, so SQLite can pick the matching index.
    std::string sql = std::string(kSelect) + " WHERE idx >= ?1";
    if (hi) sql += " AND idx < ?2";
    const std::pair<const char*, const std::optional<std::string>*> eq[] = {
        {"actor", &f.actor}, {"action", &f.action}, {"cluster", &f.cluster}, {"serial", &f.serial}, {"outcome", &f.outcome}};
    int param = 3;
    for (const auto& [col, val] : eq)
      if (*val) sql += std::string(" AND ") + col + " = ?" + std::to_string(param++);
    sql += " ORDER BY idx LIMIT ?" + std::to_string(param);
    auto& st = db_.prepare(sql);
    st.bind(1, lo);
    if (hi) st.bind(2, *hi);
    param = 3;
    for (const auto& [col, val] : eq)
      if (*val) st.bind(param++, **val);
    st.bind(param, static_cast<std::int64_t>(f.limit));
    return all_rows(st, read);
  }

  void scan_leaves(const LeafVisitor& f) override {
    auto& st = db_.prepare("SELECT idx, leaf, leaf_hash FROM audit_events ORDER BY idx");
    while (st.step()) {
      if (!f(static_cast<std::uint64_t>(st.int64(0)), st.text_view(1), st.blob_view(2))) break;
    }
    st.reset();
  }

  void scan_subtrees(const SubtreeVisitor& f) override {
    auto& st = db_.prepare("SELECT level, idx, hash FROM audit_subtrees ORDER BY level, idx");
    while (st.step()) {
      if (!f(static_cast<unsigned>(st.int64(0)), static_cast<std::uint64_t>(st.int64(1)), st.blob_view(2))) break;
    }
    st.reset();
  }

  std::optional<pki::Bytes> subtree(unsigned level, std::uint64_t index) override {
    Statement* st;
    if (level == 0) {
      st = &db_.prepare("SELECT leaf_hash FROM audit_events WHERE idx = ?1");
      st->bind(1, static_cast<std::int64_t>(index));
    } else {
      st = &db_.prepare("SELECT hash FROM audit_subtrees WHERE level = ?1 AND idx = ?2");
      st->bind(1, static_cast<std::int64_t>(level)).bind(2, static_cast<std::int64_t>(index));
    }
    if (!st->step()) return std::nullopt;
    auto h = st->blob(0);
    st->reset();
    return h;
  }

  std::vector<pki::Bytes> leaf_hashes(std::uint64_t first, std::uint64_t count) override {
    auto& st = db_.prepare("SELECT leaf_hash FROM audit_events WHERE idx >= ?1 AND idx < ?2 ORDER BY idx");
    st.bind(1, static_cast<std::int64_t>(first)).bind(2, static_cast<std::int64_t>(first + count));
    std::vector<pki::Bytes> out;
    while (st.step()) out.push_back(st.blob(0));
    return out;
  }

  void put_subtree(unsigned level, std::uint64_t index, const pki::Bytes& hash) override {
    db_.prepare("INSERT INTO audit_subtrees (level, idx, hash) VALUES (?1, ?2, ?3)")
        .bind(1, static_cast<std::int64_t>(level))
        .bind(2, static_cast<std::int64_t>(index))
        .bind(3, hash)
        .run();
  }

  void put_head(const ca::TreeHead& h) override {
    db_.prepare("INSERT OR REPLACE INTO audit_heads (tree_size, root_hash, timestamp_ms, signature) VALUES (?1,?2,?3,?4)")
        .bind(1, static_cast<std::int64_t>(h.tree_size))
        .bind(2, h.root_hash)
        .bind(3, h.timestamp_ms)
        .bind(4, h.signature)
        .run();
  }

  std::optional<ca::TreeHead> latest_head() override {
    auto& st = db_.prepare(std::string(kHeadSelect) + " ORDER BY tree_size DESC LIMIT 1");
    if (!st.step()) return std::nullopt;
    auto h = read_head(st);
    st.reset();
    return h;
  }

  std::vector<ca::TreeHead> heads() override {
    auto& st = db_.prepare(std::string(kHeadSelect) + " ORDER BY tree_size");
    std::vector<ca::TreeHead> out;
    while (st.step()) out.push_back(read_head(st));
    return out;
  }

 private:
  std::optional<std::int64_t> first_index_at_or_after(std::int64_t time_ms) {
    // One seek in audit_by_time (MIN(idx) would scan every later row).
    auto& st = db_.prepare("SELECT idx FROM audit_events WHERE time_ms >= ?1 ORDER BY time_ms, idx LIMIT 1");
    st.bind(1, time_ms);
    std::optional<std::int64_t> v;
    if (st.step()) v = st.int64(0);
    st.reset();
    return v;
  }

  static constexpr const char* kSelect =
      "SELECT idx, time_ms, actor, action, cluster, serial, outcome, leaf, leaf_hash FROM audit_events";
  static constexpr const char* kHeadSelect = "SELECT tree_size, root_hash, timestamp_ms, signature FROM audit_heads";

  static ca::AuditRecord read(Statement& st) {
    ca::AuditRecord r;
    r.index = static_cast<std::uint64_t>(st.int64(0));
    r.time_ms = st.int64(1);
    r.actor = st.text(2);
    r.action = st.text(3);
    r.cluster = st.opt_text(4);
    r.serial = st.opt_text(5);
    r.outcome = st.text(6);
    auto leaf = st.blob(7);
    r.leaf.assign(leaf.begin(), leaf.end());
    r.leaf_hash = st.blob(8);
    return r;
  }
  static ca::TreeHead read_head(Statement& st) {
    return {static_cast<std::uint64_t>(st.int64(0)), st.blob(1), st.int64(2), st.blob(3)};
  }
  Database& db_;
};

class Tokens final : public ca::TokenRepository {
 public:
  explicit Tokens(Database& db) : db_(db) {}
  void insert(const ca::TokenRecord& t) override {
    auto& st = db_.prepare(
        "INSERT INTO tokens (id, role, name, created_at_ms, expires_at_ms, revoked, secret_hash) VALUES (?1,?2,?3,?4,?5,?6,?7)");
    st.bind(1, t.id).bind(2, ca::to_string(t.role)).bind(3, t.name).bind(4, t.created_at_ms);
    if (t.expires_at_ms) st.bind(5, *t.expires_at_ms);
    st.bind(6, std::int64_t{t.revoked}).bind(7, t.secret_hash).run();
  }
  std::optional<ca::TokenRecord> find(const std::string& id) override {
    auto& st = db_.prepare(std::string(kSelect) + " WHERE id = ?1");
    st.bind(1, id);
    return one_row(st, read);
  }
  std::vector<ca::TokenRecord> list() override {
    auto& st = db_.prepare(std::string(kSelect) + " ORDER BY created_at_ms, id");
    return all_rows(st, read);
  }
  void revoke(const std::string& id) override { db_.prepare("UPDATE tokens SET revoked = 1 WHERE id = ?1").bind(1, id).run(); }

 private:
  static constexpr const char* kSelect = "SELECT id, role, name, created_at_ms, expires_at_ms, revoked, secret_hash FROM tokens";
  static ca::TokenRecord read(Statement& st) {
    ca::TokenRecord t;
    t.id = st.text(0);
    t.role = ca::role_from(st.text(1));
    t.name = st.text(2);
    t.created_at_ms = st.int64(3);
    if (!st.is_null(4)) t.expires_at_ms = st.int64(4);
    t.revoked = st.int64(5) != 0;
    t.secret_hash = st.text(6);
    return t;
  }
  Database& db_;
};

class Pushes final : public ca::PushRepository {
 public:
  explicit Pushes(Database& db) : db_(db) {}
  std::int64_t insert(const ca::PushRecord& r) override {
    db_.prepare(
           "INSERT INTO push_records (cluster, time_ms, actor, result, serial, bundle_sha256, error, attempts, duration_ms) "
           "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)")
        .bind(1, r.cluster)
        .bind(2, r.time_ms)
        .bind(3, r.actor)
        .bind(4, ca::to_string(r.result))
        .bind(5, r.serial)
        .bind(6, r.bundle_sha256)
        .bind(7, r.error)
        .bind(8, std::int64_t{r.attempts})
        .bind(9, r.duration_ms)
        .run();
    return sqlite3_last_insert_rowid(db_.raw());
  }
  std::vector<ca::PushRecord> latest_per_cluster() override {
    return rows(std::string(kSelect) + " WHERE id IN (SELECT MAX(id) FROM push_records GROUP BY cluster) ORDER BY cluster");
  }
  std::vector<ca::PushRecord> latest_success_per_cluster() override {
    return rows(std::string(kSelect) +
                " WHERE id IN (SELECT MAX(id) FROM push_records WHERE result != 'failed' GROUP BY cluster) ORDER BY cluster");
  }
  std::vector<ca::PushRecord> history(const std::string& cluster, std::uint32_t limit) override {
    auto& st = db_.prepare(std::string(kSelect) + " WHERE cluster = ?1 ORDER BY id DESC LIMIT ?2");
    st.bind(1, cluster).bind(2, std::int64_t{limit});
    return all_rows(st, read);
  }

 private:
  static constexpr const char* kSelect =
      "SELECT id, cluster, time_ms, actor, result, serial, bundle_sha256, error, attempts, duration_ms FROM push_records";
  std::vector<ca::PushRecord> rows(const std::string& sql) {
    auto& st = db_.prepare(sql);
    return all_rows(st, read);
  }
  static ca::PushRecord read(Statement& st) {
    ca::PushRecord r;
    r.id = st.int64(0);
    r.cluster = st.text(1);
    r.time_ms = st.int64(2);
    r.actor = st.text(3);
    r.result = ca::push_result_from(st.text(4));
    r.serial = st.opt_text(5);
    r.bundle_sha256 = st.text(6);
    r.error = st.text(7);
    r.attempts = static_cast<int>(st.int64(8));
    r.duration_ms = st.int64(9);
    return r;
  }
  Database& db_;
};

class Revocations final : public ca::RevocationRepository {
 public:
  explicit Revocations(Database& db) : db_(db) {}
  void insert(const ca::RevocationRecord& r) override {
    db_.prepare("INSERT INTO revocations (serial, issuer_serial, reason, revoked_at_ms, actor) VALUES (?1,?2,?3,?4,?5)")
        .bind(1, r.serial)
        .bind(2, r.issuer_serial)
        .bind(3, r.reason)
        .bind(4, r.revoked_at_ms)
        .bind(5, r.actor)
        .run();
  }
  std::optional<ca::RevocationRecord> find(const std::string& serial) override {
    auto& st = db_.prepare(std::string(kSelect) + " WHERE serial = ?1");
    st.bind(1, serial);
    return one_row(st, read);
  }
  std::vector<ca::RevocationRecord> for_issuer(const std::string& issuer) override {
    auto& st = db_.prepare(std::string(kSelect) + " WHERE issuer_serial = ?1 ORDER BY revoked_at_ms, serial");
    st.bind(1, issuer);
    return all_rows(st, read);
  }

 private:
  static constexpr const char* kSelect = "SELECT serial, issuer_serial, reason, revoked_at_ms, actor FROM revocations";
  static ca::RevocationRecord read(Statement& st) { return {st.text(0), st.text(1), st.text(2), st.int64(3), st.text(4), std::nullopt}; }
  Database& db_;
};

class Crls final : public ca::CrlRepository {
 public:
  explicit Crls(Database& db) : db_(db) {}
  void insert(const ca::CrlRecord& c) override {
    db_.prepare("INSERT INTO crls (issuer_serial, number, this_update, next_update, der) VALUES (?1,?2,?3,?4,?5)")
        .bind(1, c.issuer_serial)
        .bind(2, static_cast<std::int64_t>(c.number))
        .bind(3, c.this_update)
        .bind(4, c.next_update)
        .bind(5, c.der)
        .run();
  }
  std::optional<ca::CrlRecord> latest(const std::string& issuer) override {
    auto& st = db_.prepare(
        "SELECT issuer_serial, number, this_update, next_update, der FROM crls WHERE issuer_serial = ?1 "
        "ORDER BY number DESC LIMIT 1");
    st.bind(1, issuer);
    if (!st.step()) return std::nullopt;
    ca::CrlRecord c{st.text(0), static_cast<std::uint64_t>(st.int64(1)), st.int64(2), st.int64(3), st.blob(4)};
    st.reset();
    return c;
  }

 private:
  Database& db_;
};

class Rotation final : public ca::RotationRepository {
 public:
  explicit Rotation(Database& db) : db_(db) {}
  std::optional<ca::RootRotationRecord> get() override {
    auto& st = db_.prepare(
        "SELECT phase, old_root, new_root, started_at_ms, phase_at_ms, workload_ttl_s, cross_signed, reissued "
        "FROM root_rotation WHERE id = 1");
    if (!st.step()) return std::nullopt;
    ca::RootRotationRecord r;
    r.phase = ca::rotation_phase_from(st.text(0));
    r.old_root = st.text(1);
    r.new_root = st.text(2);
    r.started_at_ms = st.int64(3);
    r.phase_at_ms = st.int64(4);
    r.workload_ttl_s = st.int64(5);
    if (!st.is_null(6)) r.cross_signed = st.blob(6);
    r.reissued = st.int64(7) != 0;
    st.reset();
    return r;
  }
  void put(const ca::RootRotationRecord& r) override {
    auto& st = db_.prepare(
        "INSERT INTO root_rotation (id, phase, old_root, new_root, started_at_ms, phase_at_ms, workload_ttl_s, cross_signed, "
        "reissued) VALUES (1,?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(id) DO UPDATE SET phase = excluded.phase, "
        "old_root = excluded.old_root, new_root = excluded.new_root, started_at_ms = excluded.started_at_ms, "
        "phase_at_ms = excluded.phase_at_ms, workload_ttl_s = excluded.workload_ttl_s, cross_signed = excluded.cross_signed, "
        "reissued = excluded.reissued");
    st.bind(1, ca::to_string(r.phase)).bind(2, r.old_root).bind(3, r.new_root).bind(4, r.started_at_ms);
    st.bind(5, r.phase_at_ms).bind(6, r.workload_ttl_s);
    if (r.cross_signed.empty())
      st.bind_null(7);
    else
      st.bind(7, r.cross_signed);
    st.bind(8, std::int64_t{r.reissued});
    st.run();
  }
  void clear() override { db_.prepare("DELETE FROM root_rotation").run(); }

 private:
  Database& db_;
};

class SqliteTransaction final : public ca::Transaction {
  // BEGIN, COMMIT and ROLLBACK as cached statements: a request-sized read transaction should not
  // pay for parsing them each time.
  void control(const char* sql) {
    auto& st = db_.prepare(sql);
    st.run();
    st.reset();
  }

 public:
  // `release` gives the connection back (unlocks the writer, or returns a reader to the pool).
  SqliteTransaction(Database& db, std::function<void()> release, bool write)
      : db_(db), release_(std::move(release)), certs_(db), keys_(db), clusters_(db), settings_(db), audit_(db), tokens_(db), pushes_(db), revocations_(db), crls_(db), rotation_(db) {
    try {
      control(write ? "BEGIN IMMEDIATE" : "BEGIN");
    } catch (...) {
      release_();
      throw;
    }
  }
  ~SqliteTransaction() override {
    if (!done_) {
      try {
        control("ROLLBACK");
      } catch (...) {
        // Nothing more can be done in a destructor; SQLite rolls back on close anyway.
      }
    }
    release_();
  }
  ca::CertificateRepository& certificates() override { return certs_; }
  ca::KeyRepository& keys() override { return keys_; }
  ca::ClusterRepository& clusters() override { return clusters_; }
  ca::SettingsRepository& settings() override { return settings_; }
  ca::AuditRepository& audit() override { return audit_; }
  ca::TokenRepository& tokens() override { return tokens_; }
  ca::PushRepository& pushes() override { return pushes_; }
  ca::RevocationRepository& revocations() override { return revocations_; }
  ca::CrlRepository& crls() override { return crls_; }
  ca::RotationRepository& rotation() override { return rotation_; }
  void commit() override {
    control("COMMIT");
    done_ = true;
  }

 private:
  Database& db_;
  std::function<void()> release_;
  Certificates certs_;
  Keys keys_;
  Clusters clusters_;
  Settings settings_;
  Audit audit_;
  Tokens tokens_;
  Pushes pushes_;
  Revocations revocations_;
  Crls crls_;
  Rotation rotation_;
  bool done_ = false;
};

}  // namespace

SqliteStore::SqliteStore(const std::string& path) : path_(path), db_(path) {
  migrate(db_);
  checkpointer_ = std::make_unique<Checkpointer>(path, db_, kCheckpointPages);
}

SqliteStore::~SqliteStore() = default;

std::unique_ptr<ca::Transaction> SqliteStore::begin(Mode mode) {
  if (mode == Mode::Write) {
    mu_.lock();
    return std::make_unique<SqliteTransaction>(db_, [this] { mu_.unlock(); }, true);
  }
  // Readers get their own connections: in WAL mode they read a consistent snapshot while the
  // writer commits, so a slow fsync never stalls lookups.
  std::unique_ptr<Database> reader;
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_readers_.empty()) {
      reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (!reader) reader = std::make_unique<Database>(path_);
  Database* raw = reader.release();
  return std::make_unique<SqliteTransaction>(*raw, [this, raw] {
    std::unique_ptr<Database> back(raw);
    std::lock_guard lock(pool_mu_);
    if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(back));
  }, false);
}

}  // namespace meshtrust::storage
