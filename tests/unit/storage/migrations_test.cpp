// Schema migrations on real SQLite files: a new file reaches the latest schema, an old one is
// carried forward with its data, a newer one is refused, and migrating twice changes nothing.
#include <doctest/doctest.h>

#include "ca/errors.h"
#include "storage/migrations.h"
#include "storage/sqlite_store.h"
#include "support/authority_fixture.h"
#include "support/temp_dir.h"

using namespace meshtrust;

TEST_CASE("storage.migrations: a new database reaches the latest schema, and reopening changes nothing") {
  testing::TempDir dir;
  {
    storage::SqliteStore store(dir.file("m.db"));
    CHECK(storage::schema_version(store.database()) == storage::latest_schema_version());
  }
  storage::SqliteStore again(dir.file("m.db"));
  CHECK(storage::schema_version(again.database()) == storage::latest_schema_version());
}

TEST_CASE("storage.migrations: a database from schema 2 keeps its CA and log across migrations 3 to 6") {
  testing::AuthorityFixture fx;
  fx.init();
  fx.add("c1");
  fx.authority->issue("local:test", {"c1"}, {});
  auto before = fx.authority->certificates({});
  // Roll the file back to schema 2: its certificates table (no 'server' kind), none of the
  // later tables and columns, and its version.
  auto& db = fx.store->database();
  db.exec("PRAGMA foreign_keys=OFF");
  db.exec(R"sql(
BEGIN;
CREATE TABLE certificates_v2 AS SELECT * FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_v2 RENAME TO certificates;
ALTER TABLE certificates DROP COLUMN principal;
DROP TABLE push_records;
ALTER TABLE clusters DROP COLUMN access_sealed;
ALTER TABLE clusters DROP COLUMN access_context;
ALTER TABLE clusters DROP COLUMN access_server;
ALTER TABLE clusters DROP COLUMN access_auth;
ALTER TABLE clusters DROP COLUMN access_insecure;
DROP TABLE revocations;
DROP TABLE crls;
DROP TABLE root_rotation;
PRAGMA user_version = 2;
COMMIT;)sql");
  db.exec("PRAGMA foreign_keys=ON");
  fx.reopen();
  CHECK(storage::schema_version(fx.store->database()) == storage::latest_schema_version());
  auto after = fx.authority->certificates({});
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < after.size(); ++i) CHECK(after[i].der == before[i].der);
  CHECK(fx.authority->verify_audit().ok);
  auto& check = fx.store->database().prepare("PRAGMA foreign_key_check");
  CHECK_FALSE(check.step());
  check.reset();
}

TEST_CASE("storage.migrations: a database from a newer meshtrust is refused, untouched") {
  testing::TempDir dir;
  {
    storage::SqliteStore store(dir.file("m.db"));
    store.database().exec("PRAGMA user_version = 999");
  }
  try {
    storage::SqliteStore store(dir.file("m.db"));
    FAIL("a newer schema was accepted");
  } catch (const ca::Error& e) {
    CHECK(e.kind() == ca::ErrorKind::Storage);
    CHECK(std::string(e.what()).find("newer meshtrust") != std::string::npos);
  }
}
