// Group commit for audit-only events (deliveries, refused requests): concurrent callers queue
// their events and one of them commits everything queued in a single transaction, so that
// one fsync and one tree-head signature serve many requests. Each caller returns only once its
// own event is durable (or throws what the commit threw).
//
// Events join the open batch. Its first member leads when no commit is running; otherwise the
// leader of the running commit hands the lead to the open batch when it finishes. A caller
// sleeps on its own batch's condition, not a shared one, so a finished commit wakes exactly the
// callers it served and one caller of the next batch — not every waiter, who would then queue on
// the shared mutex only to sleep again.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "ca/audit.h"

namespace meshtrust::ca {

class GroupCommit {
 public:
  using CommitFn = std::function<void(const std::vector<AuditEvent>&)>;
  explicit GroupCommit(CommitFn commit) : commit_(std::move(commit)) {}

  void record(AuditEvent event) {
    std::shared_ptr<Batch> mine;
    bool lead = false;
    {
      std::lock_guard lock(mu_);
      if (!open_) open_ = std::make_shared<Batch>();
      mine = open_;
      mine->events.push_back(std::move(event));
      if (!leader_) leader_ = lead = true;
    }
    if (!lead) {
      std::unique_lock wait(mine->mu);
      mine->cv.wait(wait, [&] { return mine->state == Batch::Done || mine->state == Batch::LeadOffered; });
      if (mine->state == Batch::LeadOffered) {
        mine->state = Batch::Led;
        lead = true;
      }
    }
    if (lead) lead_commit(*mine);
    if (mine->error) std::rethrow_exception(mine->error);
  }

 private:
  struct Batch {
    enum : int { Queued, LeadOffered, Led, Done };
    std::vector<AuditEvent> events;  // appended under mu_ while the batch is open_
    std::exception_ptr error;        // written by its leader before Done
    std::mutex mu;                   // guards state; cv signals its changes
    std::condition_variable cv;
    int state = Queued;
    void set(int s) {
      {
        std::lock_guard lock(mu);
        state = s;
      }
      if (s == Done) cv.notify_all(); else cv.notify_one();
    }
  };

  void lead_commit(Batch& b) {
    {
      std::lock_guard lock(mu_);
      if (open_.get() == &b) open_.reset();  // closed: later events form the next batch
    }
    try {
      commit_(b.events);
    } catch (...) {
      b.error = std::current_exception();
    }
    b.set(Batch::Done);
    std::lock_guard lock(mu_);
    if (open_)
      open_->set(Batch::LeadOffered);  // one caller of the next batch takes the lead
    else
      leader_ = false;
  }

  CommitFn commit_;
  std::mutex mu_;
  std::shared_ptr<Batch> open_;  // the batch accepting events, if any
  bool leader_ = false;          // a commit is running or its lead has been offered
};

}  // namespace meshtrust::ca
