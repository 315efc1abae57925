// WAL checkpoints off the commit path. SQLite's automatic checkpoint runs inside the commit that
// crosses the threshold: the writer — and in the server every request waiting on its group
// commit — stalls while 64 MiB of WAL are copied into the database and fsynced (measured: the
// cacerts p99 goes from 7.5 to 12 ms). Instead, the writer's commits report the WAL's size
// (sqlite3_wal_hook, which replaces the automatic checkpoint) and a thread with its own
// connection runs a PASSIVE checkpoint once it passes the threshold; readers and the writer go
// on meanwhile. Should the thread fall behind (the WAL at four times the threshold), the writer
// checkpoints in its commit as before, so the WAL stays bounded.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "storage/sqlite.h"

namespace meshtrust::storage {

class Checkpointer {
 public:
  // Takes over checkpointing of `writer`'s database file at `path` every `pages` WAL pages.
  Checkpointer(const std::string& path, Database& writer, int pages);
  ~Checkpointer();  // stops the thread; SQLite checkpoints what is left when the last connection closes
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  static int on_commit(void* self, sqlite3*, const char*, int wal_pages);
  void run();

  Database& writer_;
  Database connection_;  // the checkpointer's own
  const int pages_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool due_ = false, stop_ = false;
  std::thread thread_;
};

}  // namespace meshtrust::storage
