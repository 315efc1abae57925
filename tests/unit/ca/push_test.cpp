// Distribution orchestration in the authority, with a scripted gateway in place of kube/: which
// clusters are pushed, bounded concurrency, what is recorded and audited, and delivery states.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/authority_fixture.h"

using namespace meshtrust;
using testing::AuthorityFixture;

namespace {

// Answers each push with the result scripted for its cluster (default Created), and records
// what it was asked and how many pushes ran at once.
class ScriptedGateway final : public ca::ClusterGateway {
 public:
  std::map<std::string, ca::PushResult> script;
  std::mutex mu;
  std::vector<std::string> pushed;
  std::map<std::string, std::string> kubeconfigs, digests;
  std::atomic<int> running{0}, max_running{0};
  std::chrono::milliseconds hold{0};

  ca::PushOutcome push(const ca::PushTarget& t, const ca::Bundle& b, const ca::PushOptions&) override {
    int now = ++running;
    for (int seen = max_running; now > seen && !max_running.compare_exchange_weak(seen, now);) {
    }
    if (hold.count()) std::this_thread::sleep_for(hold);
    {
      std::lock_guard lock(mu);
      pushed.push_back(t.cluster);
      kubeconfigs[t.cluster] = t.access.kubeconfig;
      digests[t.cluster] = b.bundle_sha256;
    }
    --running;
    ca::PushOutcome o;
    auto it = script.find(t.cluster);
    o.result = it == script.end() ? ca::PushResult::Created : it->second;
    o.attempts = 1;
    if (o.result == ca::PushResult::Failed) o.error = "cluster " + t.cluster + ": PUT secrets: 403 Forbidden";
    return o;
  }
  std::vector<ca::AccessCheck> check(const ca::PushTarget& t, std::chrono::milliseconds) override {
    return {{"reach", true, "server of " + t.cluster}};
  }
};

ca::ClusterRecord with_access(const std::string& name) {
  ca::ClusterRecord c;
  c.name = name;
  c.access = ca::ClusterAccessSpec{"kubeconfig-of-" + name + " token: s3cret-" + name, "main", "https://api." + name,
                                   "token", false};
  return c;
}

size_t count_events(AuthorityFixture& f, const std::string& action) {
  auto tx = f.store->begin(ca::Store::Mode::Read);
  ca::AuditFilter filter;
  filter.action = action;
  filter.limit = 100000;
  return tx->audit().query(filter).size();
}

}  // namespace

TEST_CASE("ca.push: pushes clusters with a kubeconfig and an intermediate, records and audits each attempt") {
  AuthorityFixture f;
  f.init();
  for (auto n : {"a", "b", "c"}) f.authority->add_cluster("local:test", with_access(n));
  f.add("no-kubeconfig");
  f.authority->issue("local:test", {"a", "b", "no-kubeconfig"}, {});
  ScriptedGateway gw;
  gw.script["b"] = ca::PushResult::Failed;

  auto run = f.authority->push("local:test", {}, {}, gw);
  REQUIRE(run.reports.size() == 2);
  CHECK(run.reports[0].cluster == "a");
  CHECK(run.reports[0].outcome.result == ca::PushResult::Created);
  CHECK(run.reports[1].outcome.result == ca::PushResult::Failed);
  // c has no intermediate, no-kubeconfig no kubeconfig: skipped with a reason each.
  REQUIRE(run.skipped.size() == 2);
  CHECK(run.skipped[0].first == "c");
  CHECK(run.skipped[0].second.find("no intermediate") != std::string::npos);
  CHECK(run.skipped[1].second.find("no kubeconfig") != std::string::npos);

  // The gateway got the unsealed kubeconfig; the database and the events never hold it.
  CHECK(gw.kubeconfigs["a"] == "kubeconfig-of-a token: s3cret-a");
  CHECK(count_events(f, "secret.push") == 2);
  auto tx = f.store->begin(ca::Store::Mode::Read);
  ca::AuditFilter all;
  all.limit = 100000;
  for (const auto& e : tx->audit().query(all)) CHECK(e.leaf.find("s3cret") == std::string::npos);
  auto history = tx->pushes().history("b", 10);
  REQUIRE(history.size() == 1);
  CHECK(history[0].result == ca::PushResult::Failed);
  CHECK(history[0].error.find("403") != std::string::npos);
  CHECK(history[0].bundle_sha256 == gw.digests["b"]);
  tx.reset();
  CHECK(f.authority->audit_head().tree_size > 0);
  CHECK(f.authority->verify_audit().ok);
}

TEST_CASE("ca.push: named clusters that cannot be pushed are refused before anything is sent") {
  AuthorityFixture f;
  f.init();
  f.authority->add_cluster("local:test", with_access("a"));
  f.add("plain");
  f.authority->issue("local:test", {"a", "plain"}, {});
  ScriptedGateway gw;
  auto kind = [&](std::vector<std::string> names, ca::PushOptions o = {}) {
    try {
      f.authority->push("local:test", names, o, gw);
    } catch (const ca::Error& e) {
      return e.kind();
    }
    return ca::ErrorKind::Internal;
  };
  CHECK(kind({"a", "plain"}) == ca::ErrorKind::PolicyDenied);
  CHECK(kind({"a", "a"}) == ca::ErrorKind::InvalidRequest);
  CHECK(kind({"nope"}) == ca::ErrorKind::NotFound);
  ca::PushOptions zero;
  zero.concurrency = 0;
  CHECK(kind({"a"}, zero) == ca::ErrorKind::InvalidRequest);
  CHECK(gw.pushed.empty());
  CHECK(count_events(f, "secret.push") == 0);
}

TEST_CASE("ca.push: concurrency is bounded, and every cluster is pushed once") {
  AuthorityFixture f;
  f.init();
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) {
    names.push_back("c" + std::to_string(i));
    f.authority->add_cluster("local:test", with_access(names.back()));
  }
  f.authority->issue("local:test", names, {});
  ScriptedGateway gw;
  gw.hold = std::chrono::milliseconds(20);
  ca::PushOptions o;
  o.concurrency = 4;
  size_t last_done = 0;
  auto run = f.authority->push("local:test", {}, o, gw, [&](size_t done, size_t, size_t total) {
    CHECK(done > last_done);
    CHECK(total == 40);
    last_done = done;
  });
  CHECK(last_done == 40);
  CHECK(gw.max_running.load() <= 4);
  CHECK(gw.max_running.load() >= 2);
  std::set<std::string> unique(gw.pushed.begin(), gw.pushed.end());
  CHECK(unique.size() == 40);
  CHECK(gw.pushed.size() == 40);
  // --all answers in the order of `cluster list` (by name).
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) CHECK(run.reports[i].cluster == sorted[i]);
}

TEST_CASE("ca.push: dry runs and the reconcile loop's unchanged checks are not recorded") {
  AuthorityFixture f;
  f.init();
  f.authority->add_cluster("local:test", with_access("a"));
  f.authority->issue("local:test", {"a"}, {});
  ScriptedGateway gw;
  gw.script["a"] = ca::PushResult::WouldCreate;
  ca::PushOptions dry;
  dry.dry_run = true;
  f.authority->push("local:test", {"a"}, dry, gw);
  CHECK(count_events(f, "secret.push") == 0);
  gw.script["a"] = ca::PushResult::Unchanged;
  f.authority->reconcile(gw, {});
  CHECK(count_events(f, "secret.push") == 0);
  f.authority->push("local:test", {"a"}, {}, gw);  // a person's push is an attempt, even if unchanged
  CHECK(count_events(f, "secret.push") == 1);
}

TEST_CASE("ca.push: delivery states follow the last attempt and the current bundle") {
  AuthorityFixture f;
  f.init();
  for (auto n : {"ok", "bad", "new"}) f.authority->add_cluster("local:test", with_access(n));
  f.add("plain");
  f.authority->issue("local:test", {"ok", "bad", "new", "plain"}, {});
  ScriptedGateway gw;
  gw.script["bad"] = ca::PushResult::Failed;
  f.authority->push("local:test", {"ok", "bad"}, {}, gw);
  auto report = f.authority->delivery();
  std::map<std::string, ca::DeliveryState> state;
  for (const auto& d : report.clusters) state[d.cluster] = d.state;
  CHECK(state["ok"] == ca::DeliveryState::InSync);
  CHECK(state["bad"] == ca::DeliveryState::Failing);
  CHECK(state["new"] == ca::DeliveryState::Drifted);  // never pushed
  CHECK(state["plain"] == ca::DeliveryState::Unmanaged);
  CHECK(report.pushes[ca::PushResult::Created] == 1);
  CHECK(report.pushes[ca::PushResult::Failed] == 1);
  // A reopened authority (another process) reads the same states from the records.
  f.reopen();
  for (const auto& d : f.authority->delivery().clusters)
    if (d.cluster == "ok") CHECK(d.last_success.has_value());
}

TEST_CASE("ca.push: a kubeconfig sealed for one cluster does not open as another's") {
  AuthorityFixture f;
  f.init();
  f.authority->add_cluster("local:test", with_access("a"));
  f.authority->add_cluster("local:test", with_access("b"));
  f.authority->issue("local:test", {"a", "b"}, {});
  // Move a's sealed kubeconfig into b's row, as someone editing the database might.
  {
    auto& db = f.store->database();
    db.exec("UPDATE clusters SET access_sealed = (SELECT access_sealed FROM clusters WHERE name = 'a') WHERE name = 'b'");
  }
  ScriptedGateway gw;
  CHECK_THROWS(f.authority->push("local:test", {"b"}, {}, gw));
  CHECK(gw.pushed.empty());
}
