// ca::Store on one SQLite file (WAL): one writer connection (write transactions serialise on it)
// and a pool of reader connections, so reads from many threads run alongside a commit.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ca/repository.h"
#include "storage/checkpointer.h"
#include "storage/sqlite.h"

namespace meshtrust::storage {

class SqliteStore final : public ca::Store {
 public:
  // Opens or creates `path` and applies pending migrations.
  explicit SqliteStore(const std::string& path);
  ~SqliteStore() override;
  std::unique_ptr<ca::Transaction> begin(Mode mode) override;
  Database& database() { return db_; }  // the writer connection (tests, migrations)

 private:
  // Enough for every connection the REST server serves at once (its default cap is 256): a
  // reader opened per request would parse its statements again every time.
  static constexpr size_t kMaxIdleReaders = 256;
  // Checkpoint the WAL every 64 MiB rather than SQLite's 4 MiB: index pages touched by many
  // commits are then written back once, not once per commit (audit appends on random serials).
  static constexpr int kCheckpointPages = 16384;
  std::string path_;
  Database db_;
  std::mutex mu_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Database>> idle_readers_;
  std::unique_ptr<Checkpointer> checkpointer_;  // last: stopped before the connections close
};

}  // namespace meshtrust::storage
