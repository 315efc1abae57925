// Group commit for audit-only events (deliveries, refused requests): concurrent callers queue
// their events and one of them commits everything queued in a single transaction, so that
// one fsync and one tree-head signature serve many requests. Each caller returns only once its
// own event is durable (or throws what the commit threw).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <vector>

#include "ca/audit.h"

namespace meshtrust::ca {

class GroupCommit {
 public:
  using CommitFn = std::function<void(const std::vector<AuditEvent>&)>;
  explicit GroupCommit(CommitFn commit) : commit_(std::move(commit)) {}

  void record(AuditEvent event) {
    std::unique_lock lock(mu_);
    const std::uint64_t ticket = ++issued_;
    pending_.push_back(std::move(event));
    while (done_ < ticket) {
      if (leader_) {
        cv_.wait(lock);
        continue;
      }
      // Become the leader: commit everything queued so far, including our own event.
      leader_ = true;
      std::vector<AuditEvent> batch;
      batch.swap(pending_);
      const std::uint64_t upto = issued_;
      lock.unlock();
      std::exception_ptr error;
      try {
        commit_(batch);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      if (error) failures_.push_back({done_ + 1, upto, error});
      done_ = upto;
      leader_ = false;
      cv_.notify_all();
    }
    for (const auto& f : failures_)
      if (ticket >= f.from && ticket <= f.to) std::rethrow_exception(f.error);
    // Forget failures every waiter has seen (all tickets up to done_ have returned or will
    // check before the next batch completes); keep the list short.
    if (failures_.size() > 16) failures_.erase(failures_.begin(), failures_.end() - 16);
  }

 private:
  struct Failure {
    std::uint64_t from, to;
    std::exception_ptr error;
  };
  CommitFn commit_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<AuditEvent> pending_;
  std::vector<Failure> failures_;
  std::uint64_t issued_ = 0, done_ = 0;
  bool leader_ = false;
};

}  // namespace meshtrust::ca
