// Slows down peers that keep failing authentication: after a few failures within a window,
// each further answer to that peer waits a little longer (capped), making token guessing slow.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace meshtrust::api {

class AuthThrottle {
 public:
  // How long to hold the answer to this peer's failed attempt (0 for the first few).
  std::chrono::milliseconds on_failure(const std::string& peer);
  void on_success(const std::string& peer);

 private:
  struct Entry {
    int failures = 0;
    std::chrono::steady_clock::time_point last;
  };
  static constexpr int kFree = 3;
  static constexpr std::chrono::minutes kWindow{5};
  static constexpr std::chrono::milliseconds kMax{2000};
  std::mutex mu_;
  std::unordered_map<std::string, Entry> peers_;
};

}  // namespace meshtrust::api
