// ca::Store on one SQLite file (WAL). One connection; callers on several threads serialise
// on the store (the CLI uses one thread; the server gives each worker its own store).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "ca/repository.h"
#include "storage/sqlite.h"

namespace meshtrust::storage {

class SqliteStore final : public ca::Store {
 public:
  // Opens or creates `path` and applies pending migrations.
  explicit SqliteStore(const std::string& path);
  std::unique_ptr<ca::Transaction> begin(Mode mode) override;
  Database& database() { return db_; }

 private:
  Database db_;
  std::mutex mu_;
};

}  // namespace meshtrust::storage
