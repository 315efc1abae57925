// Group commit: concurrent callers each return only after a commit that contained their event;
// events are batched; a failed commit fails exactly the callers whose events it held.
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

#include "ca/group_commit.h"

using namespace meshtrust;

TEST_CASE("ca.group_commit: every event is committed once, in batches, before its caller returns") {
  std::mutex mu;
  std::set<std::string> committed;
  std::atomic<int> commits{0};
  ca::GroupCommit gc([&](const std::vector<ca::AuditEvent>& batch) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a slow fsync lets batches form
    std::lock_guard lock(mu);
    for (const auto& e : batch) CHECK(committed.insert(e.action).second);
    ++commits;
  });
  std::vector<std::thread> threads;
  std::atomic<int> returned_unseen{0};
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string id = std::to_string(t) + "/" + std::to_string(i);
        gc.record({"test", id, std::nullopt, std::nullopt, true, nlohmann::json::object()});
        std::lock_guard lock(mu);
        if (!committed.count(id)) ++returned_unseen;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(committed.size() == 320);
  CHECK(returned_unseen == 0);
  CHECK(commits < 320);  // batching happened
}

TEST_CASE("ca.group_commit: a failed commit fails its callers, and later commits still work") {
  std::atomic<bool> broken{true};
  ca::GroupCommit gc([&](const std::vector<ca::AuditEvent>&) {
    if (broken) throw std::runtime_error("disk full");
  });
  CHECK_THROWS_WITH(gc.record({"test", "a", std::nullopt, std::nullopt, true, nlohmann::json::object()}), "disk full");
  broken = false;
  CHECK_NOTHROW(gc.record({"test", "b", std::nullopt, std::nullopt, true, nlohmann::json::object()}));
}
