// Thin RAII over the SQLite C API: a connection, prepared statements, typed binds and reads.
// Every failure becomes ca::Error(Storage) naming what failed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "pki/encoding.h"

namespace meshtrust::storage {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(const Statement&) = delete;
  ~Statement();

  Statement& bind(int i, std::int64_t v);
  Statement& bind(int i, std::string_view v);
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const pki::Bytes& v);
  Statement& bind(int i, const std::optional<std::string>& v);
  Statement& bind_null(int i);
  bool step();  // true while a row is available
  void run();   // steps to completion
  void reset();

  std::int64_t int64(int col) const;
  std::string text(int col) const;
  std::optional<std::string> opt_text(int col) const;
  pki::Bytes blob(int col) const;
  // Views into SQLite's buffer: valid until the next step() or reset().
  std::string_view text_view(int col) const;
  pki::ByteView blob_view(int col) const;
  bool is_null(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  // Opens (creating if needed) in WAL mode with full fsync on commit and a busy timeout, so
  // a CLI and a running server can share one data dir.
  explicit Database(const std::string& path);
  Database(const Database&) = delete;
  ~Database();

  void exec(std::string_view sql);
  // A cached prepared statement, reset and with bindings cleared, ready to bind.
  Statement& prepare(const std::string& sql);
  sqlite3* raw() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::map<std::string, std::unique_ptr<Statement>> cache_;
};

[[noreturn]] void throw_sqlite(sqlite3* db, std::string_view what);

}  // namespace meshtrust::storage
