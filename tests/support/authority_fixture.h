// An authority over a real SQLite file in a temp dir, with a fixed clock.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>

#include "ca/authority.h"
#include "ca/errors.h"
#include "storage/sqlite_store.h"
#include "support/temp_dir.h"

namespace meshtrust::testing {

inline ca::TimePoint fixed_time() {
  // 2026-06-01T12:00:00Z
  return ca::TimePoint(std::chrono::milliseconds(1780315200000LL));
}

// The kind of ca::Error that `f` throws; fails the test if it throws none.
inline ca::ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ca::Error& e) {
    return e.kind();
  }
  FAIL("expected a ca::Error");
  return ca::ErrorKind::Internal;
}

struct AuthorityFixture {
  TempDir dir;
  ca::FixedClock clock{fixed_time()};
  std::string secret = "correct horse battery staple";
  std::unique_ptr<storage::SqliteStore> store;
  std::unique_ptr<ca::Authority> authority;

  AuthorityFixture() { reopen(); }

  // A fresh authority over the same file, as a new CLI invocation would have.
  void reopen() {
    authority.reset();
    store = std::make_unique<storage::SqliteStore>(dir.file("meshtrust.db"));
    authority = std::make_unique<ca::Authority>(*store, clock, [this](ca::KekSettings::Mode) { return secret; });
  }

  ca::CertificateRecord init(const std::string& profile = "default") {
    ca::InitOptions o;
    o.profile = profile;
    o.kek_mode = ca::KekSettings::Mode::Passphrase;
    o.kek_secret = secret;
    return authority->init("local:test", o);
  }

  void add(const std::string& name) {
    ca::ClusterRecord c;
    c.name = name;
    authority->add_cluster("local:test", c);
  }
};

}  // namespace meshtrust::testing
