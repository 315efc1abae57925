#include "storage/checkpointer.h"

#include <sqlite3.h>

namespace meshtrust::storage {

Checkpointer::Checkpointer(const std::string& path, Database& writer, int pages)
    : writer_(writer), connection_(path), pages_(pages) {
  thread_ = std::thread([this] { run(); });
  sqlite3_wal_hook(writer_.raw(), &Checkpointer::on_commit, this);
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(writer_.raw(), nullptr, nullptr);
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

// Called by SQLite on the writer's thread after each commit (its write lock released): usually
// only a flag and a wake-up. The WAL restarts from its beginning only when a write begins with
// every frame copied, so under writes faster than the thread copies it would grow without end:
// past four times the threshold the writer checkpoints itself, as SQLite's own hook would have.
int Checkpointer::on_commit(void* self, sqlite3* db, const char*, int wal_pages) {
  auto* c = static_cast<Checkpointer*>(self);
  if (wal_pages >= 4 * c->pages_) {
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (wal_pages >= c->pages_) {
    {
      std::lock_guard lock(c->mu_);
      c->due_ = true;
    }
    c->cv_.notify_one();
  }
  return SQLITE_OK;
}

void Checkpointer::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return due_ || stop_; });
    if (stop_) return;
    due_ = false;
    lock.unlock();
    // PASSIVE: copies what no reader still needs, never waits for or blocks anyone. A busy or
    // partial checkpoint is finished by a later one; the WAL is reused once one completes. Its
    // result is not reported from here: a failing disk fails the writer's next commit, which the
    // caller sees with its reason.
    int wal = 0, copied = 0;
    sqlite3_wal_checkpoint_v2(connection_.raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal, &copied);
    lock.lock();
  }
}

}  // namespace meshtrust::storage
