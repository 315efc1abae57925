// WAL checkpoints on their own thread: the WAL stays bounded while the writer commits, without
// SQLite's automatic checkpoint (the hook replaces it), and nothing committed is lost.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "storage/checkpointer.h"
#include "storage/sqlite.h"
#include "support/temp_dir.h"

using namespace meshtrust;

TEST_CASE("storage.checkpointer: the WAL stays bounded under a stream of commits, and every row is kept") {
  testing::TempDir dir;
  const std::string path = dir.file("c.db");
  constexpr int kCommits = 2500;  // 16 KiB each: 40 MiB through the WAL
  {
    storage::Database db(path);
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)");
    storage::Checkpointer checkpointer(path, db, 64);  // every 64 pages (256 KiB)
    std::uintmax_t largest = 0;
    for (int i = 0; i < kCommits; ++i) {
      db.exec("INSERT INTO t (payload) VALUES (zeroblob(16384))");
      if (i % 100 == 0) largest = std::max(largest, std::filesystem::file_size(path + "-wal"));
    }
    // Without the checkpointer nothing would checkpoint (the hook replaced SQLite's own) and the
    // WAL would hold all 40 MiB.
    CHECK(largest < 8u * 1024 * 1024);
  }
  storage::Database again(path);
  auto& st = again.prepare("SELECT COUNT(*) FROM t");
  REQUIRE(st.step());
  CHECK(st.int64(0) == kCommits);
  st.reset();
}
