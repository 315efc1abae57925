#include "storage/migrations.h"

#include <vector>

#include "ca/errors.h"

namespace meshtrust::storage {

namespace {

// Append only: never edit a migration that has shipped.
const std::vector<const char*> kMigrations = {
    // 1: the local CA and its audit log.
    R"sql(
CREATE TABLE settings (
  name  TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE keys (
  id         TEXT PRIMARY KEY,
  algorithm  TEXT NOT NULL,
  public_key BLOB NOT NULL,         -- SubjectPublicKeyInfo DER
  sealed     BLOB NOT NULL          -- AES-256-GCM under the KEK; never plaintext
) WITHOUT ROWID;

CREATE TABLE certificates (
  serial         TEXT PRIMARY KEY,
  kind           TEXT NOT NULL CHECK (kind IN ('root','intermediate','workload')),
  cluster        TEXT,
  subject        TEXT NOT NULL,
  issuer_serial  TEXT NOT NULL,
  not_before     INTEGER NOT NULL,
  not_after      INTEGER NOT NULL,
  fingerprint    TEXT NOT NULL UNIQUE,
  profile        TEXT NOT NULL,
  key_algorithm  TEXT NOT NULL,
  key_id         TEXT REFERENCES keys(id),
  from_csr       INTEGER NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('active','superseded','revoked')),
  issued_at_ms   INTEGER NOT NULL,
  der            BLOB NOT NULL
);
CREATE INDEX certificates_by_cluster ON certificates(cluster, kind);
CREATE INDEX certificates_by_not_after ON certificates(not_after);

CREATE TABLE clusters (
  name            TEXT PRIMARY KEY,
  namespace       TEXT NOT NULL,
  secret_name     TEXT NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  current_serial  TEXT REFERENCES certificates(serial)
) WITHOUT ROWID;

CREATE TABLE audit_events (
  idx        INTEGER PRIMARY KEY,      -- 0-based position in the log
  time_ms    INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  cluster    TEXT,
  serial     TEXT,
  outcome    TEXT NOT NULL,
  leaf       BLOB NOT NULL,            -- canonical JSON exactly as hashed
  leaf_hash  BLOB NOT NULL
);
-- Each index is implicitly ordered by idx after its column, so "this cluster, from index a to
-- index b, in order" is one range scan. Times never decrease along the log, so a time window
-- is first turned into an index range through audit_by_time.
CREATE INDEX audit_by_time ON audit_events(time_ms);
CREATE INDEX audit_by_cluster ON audit_events(cluster);
CREATE INDEX audit_by_actor ON audit_events(actor);
CREATE INDEX audit_by_action ON audit_events(action);
CREATE INDEX audit_by_serial ON audit_events(serial);

-- Hashes of complete subtrees above the leaves: level L, index i covers leaves [i<<L, (i+1)<<L).
CREATE TABLE audit_subtrees (
  level  INTEGER NOT NULL,
  idx    INTEGER NOT NULL,
  hash   BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TABLE audit_heads (
  tree_size     INTEGER PRIMARY KEY,
  root_hash     BLOB NOT NULL,
  timestamp_ms  INTEGER NOT NULL,
  signature     BLOB NOT NULL
);
)sql",
    // 2: bearer tokens for the REST API (hashes only).
    R"sql(
CREATE TABLE tokens (
  id             TEXT PRIMARY KEY,
  role           TEXT NOT NULL CHECK (role IN ('admin','issuer','auditor','cluster')),
  name           TEXT NOT NULL,
  created_at_ms  INTEGER NOT NULL,
  expires_at_ms  INTEGER,
  revoked        INTEGER NOT NULL DEFAULT 0,
  secret_hash    TEXT NOT NULL        -- hex SHA-256 of the secret; the secret is never stored
) WITHOUT ROWID;
)sql",
    // 3: certificates may also be the REST server's own TLS certificates (kind 'server').
    // SQLite cannot alter a CHECK constraint, so the table is rebuilt (see migrate()).
    R"sql(
CREATE TABLE certificates_v3 (
  serial         TEXT PRIMARY KEY,
  kind           TEXT NOT NULL CHECK (kind IN ('root','intermediate','workload','server')),
  cluster        TEXT,
  subject        TEXT NOT NULL,
  issuer_serial  TEXT NOT NULL,
  not_before     INTEGER NOT NULL,
  not_after      INTEGER NOT NULL,
  fingerprint    TEXT NOT NULL UNIQUE,
  profile        TEXT NOT NULL,
  key_algorithm  TEXT NOT NULL,
  key_id         TEXT REFERENCES keys(id),
  from_csr       INTEGER NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('active','superseded','revoked')),
  issued_at_ms   INTEGER NOT NULL,
  der            BLOB NOT NULL
);
INSERT INTO certificates_v3 SELECT * FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_v3 RENAME TO certificates;
CREATE INDEX certificates_by_cluster ON certificates(cluster, kind);
CREATE INDEX certificates_by_not_after ON certificates(not_after);
)sql",
    // 4: pushing to Kubernetes: each cluster's API access (kubeconfig sealed under the KEK,
    // described in clear for listings) and every push attempt. Push history has no foreign key:
    // it outlives a removed cluster, like its certificates.
    R"sql(
ALTER TABLE clusters ADD COLUMN access_sealed BLOB;
ALTER TABLE clusters ADD COLUMN access_context TEXT;
ALTER TABLE clusters ADD COLUMN access_server TEXT;
ALTER TABLE clusters ADD COLUMN access_auth TEXT;
ALTER TABLE clusters ADD COLUMN access_insecure INTEGER NOT NULL DEFAULT 0;

CREATE TABLE push_records (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  cluster        TEXT NOT NULL,
  time_ms        INTEGER NOT NULL,
  actor          TEXT NOT NULL,
  result         TEXT NOT NULL CHECK (result IN ('created','replaced','unchanged','failed')),
  serial         TEXT,
  bundle_sha256  TEXT NOT NULL,
  error          TEXT NOT NULL,
  attempts       INTEGER NOT NULL,
  duration_ms    INTEGER NOT NULL
);
CREATE INDEX push_records_by_cluster ON push_records(cluster, id);
)sql",
    // 5: revocation and CRLs, and the root rotation state machine (one row while a rotation runs).
    R"sql(
CREATE TABLE revocations (
  serial         TEXT PRIMARY KEY REFERENCES certificates(serial),
  issuer_serial  TEXT NOT NULL,
  reason         TEXT NOT NULL,
  revoked_at_ms  INTEGER NOT NULL,
  actor          TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX revocations_by_issuer ON revocations(issuer_serial);

CREATE TABLE crls (
  issuer_serial  TEXT NOT NULL,
  number         INTEGER NOT NULL,
  this_update    INTEGER NOT NULL,
  next_update    INTEGER NOT NULL,
  der            BLOB NOT NULL,
  PRIMARY KEY (issuer_serial, number)
) WITHOUT ROWID;

CREATE TABLE root_rotation (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  phase          TEXT NOT NULL CHECK (phase IN ('trust-both','reissuing','new-intermediates')),
  old_root       TEXT NOT NULL REFERENCES certificates(serial),
  new_root       TEXT NOT NULL REFERENCES certificates(serial),
  started_at_ms  INTEGER NOT NULL,
  phase_at_ms    INTEGER NOT NULL,
  workload_ttl_s INTEGER NOT NULL,
  reissued       INTEGER NOT NULL,      -- 1 once intermediates under the new root were issued
  cross_signed   BLOB                   -- DER: the new root's key certified by the old root
);
)sql",
    // 6: client certificates for mutual TLS (kind 'client'), each naming the principal it
    // authenticates. The kind CHECK changes, so the table is rebuilt as in migration 3.
    R"sql(
CREATE TABLE certificates_v6 (
  serial         TEXT PRIMARY KEY,
  kind           TEXT NOT NULL CHECK (kind IN ('root','intermediate','workload','server','client')),
  cluster        TEXT,
  subject        TEXT NOT NULL,
  issuer_serial  TEXT NOT NULL,
  not_before     INTEGER NOT NULL,
  not_after      INTEGER NOT NULL,
  fingerprint    TEXT NOT NULL UNIQUE,
  profile        TEXT NOT NULL,
  key_algorithm  TEXT NOT NULL,
  key_id         TEXT REFERENCES keys(id),
  from_csr       INTEGER NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('active','superseded','revoked')),
  issued_at_ms   INTEGER NOT NULL,
  der            BLOB NOT NULL,
  principal      TEXT CHECK ((kind = 'client') = (principal IS NOT NULL))
);
INSERT INTO certificates_v6 SELECT *, NULL FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_v6 RENAME TO certificates;
CREATE INDEX certificates_by_cluster ON certificates(cluster, kind);
CREATE INDEX certificates_by_not_after ON certificates(not_after);
)sql",
};

}  // namespace

int schema_version(Database& db) {
  auto& st = db.prepare("PRAGMA user_version");
  st.step();
  int v = static_cast<int>(st.int64(0));
  st.reset();
  return v;
}

int latest_schema_version() { return static_cast<int>(kMigrations.size()); }

void migrate(Database& db) {
  int current = schema_version(db);
  if (current > latest_schema_version())
    throw ca::Error(ca::ErrorKind::Storage, "the data dir was written by a newer meshtrust (schema " + std::to_string(current) +
                                                ", this build knows " + std::to_string(latest_schema_version()) + ")");
  if (current == latest_schema_version()) return;
  // SQLite's procedure for rebuilding tables: foreign keys off outside the transaction, then
  // foreign_key_check before commit, so a rebuild never leaves a dangling reference.
  db.exec("PRAGMA foreign_keys=OFF");
  try {
    for (int v = current; v < latest_schema_version(); ++v) {
      db.exec("BEGIN IMMEDIATE");
      try {
        // Re-check under the write lock: another process may have migrated meanwhile.
        if (schema_version(db) == v) {
          db.exec(kMigrations[static_cast<size_t>(v)]);
          auto& check = db.prepare("PRAGMA foreign_key_check");
          bool dangling = check.step();
          check.reset();
          if (dangling)
            throw ca::Error(ca::ErrorKind::Storage, "schema migration " + std::to_string(v + 1) + " would leave a dangling reference");
          db.exec("PRAGMA user_version = " + std::to_string(v + 1));
        }
        db.exec("COMMIT");
      } catch (...) {
        db.exec("ROLLBACK");
        throw;
      }
    }
  } catch (...) {
    db.exec("PRAGMA foreign_keys=ON");
    throw;
  }
  db.exec("PRAGMA foreign_keys=ON");
}

}  // namespace meshtrust::storage
