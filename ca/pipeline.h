// Produce on many threads, store on one: the shape of batch issuance and of fleet pushes.
// Workers run `produce(i)` for every i in [0, total), at most `workers` at a time; the calling
// thread hands whatever has finished to `consume(batch)` (at most `max_batch` items), so one
// transaction and one signed tree head serve many items. Memory holds at most the items that
// finished while the last batch was being stored, whatever `total` is.
//
// The first exception (from a worker or from consume) stops the workers from starting new
// items, waits for those running, and is rethrown here.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace meshtrust::ca {

template <class Item>
void run_pipeline(size_t total, size_t workers, size_t max_batch, const std::function<Item(size_t)>& produce,
                  const std::function<void(std::vector<Item>&)>& consume) {
  if (total == 0) return;
  workers = std::clamp<size_t>(workers, 1, total);
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable ready;
  std::deque<Item> finished;
  std::exception_ptr failure;
  size_t stopped_workers = 0;

  auto work = [&] {
    try {
      for (size_t i; !stop && (i = next++) < total;) {
        Item item = produce(i);
        std::lock_guard lock(mu);
        finished.push_back(std::move(item));
        ready.notify_one();
      }
    } catch (...) {
      std::lock_guard lock(mu);
      if (!failure) failure = std::current_exception();
      stop = true;
    }
    std::lock_guard lock(mu);
    ++stopped_workers;
    ready.notify_one();
  };
  std::vector<std::jthread> pool;
  for (size_t w = 0; w < workers; ++w) pool.emplace_back(work);

  try {
    while (true) {
      std::vector<Item> batch;
      {
        std::unique_lock lock(mu);
        ready.wait(lock, [&] { return !finished.empty() || stopped_workers == workers; });
        if (finished.empty()) break;
        while (!finished.empty() && batch.size() < max_batch) {
          batch.push_back(std::move(finished.front()));
          finished.pop_front();
        }
      }
      consume(batch);
    }
  } catch (...) {
    stop = true;
    pool.clear();  // joins
    throw;
  }
  pool.clear();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace meshtrust::ca
