// The retry policy of kube-api.md as pure functions, so it can be read and tested apart from I/O:
// which answers are worth another attempt, and how long to wait before it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace meshtrust::kube {

// 429 and 5xx are transient (overload, a restarting API server, an unhealthy proxy); 501 and 505
// are not. 400/401/403/404/409/422 never are: the same request gets the same answer, and a 409
// Conflict needs a re-read, not a resend.
inline bool retryable_status(int status) {
  return status == 429 || (status >= 500 && status <= 599 && status != 501 && status != 505);
}

// Exponential backoff with "equal jitter": the n-th retry (n >= 1) waits a uniformly chosen time
// in [d/2, d] with d = min(max, base * 2^(n-1)). Half the delay is guaranteed (the server gets
// its rest), the other half spreads clients out so a fleet does not retry in lockstep.
// `unit` is a random number in [0, 1).
inline std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                               double unit) {
  int shift = std::clamp(retry - 1, 0, 30);
  double d = std::min(static_cast<double>(max.count()), static_cast<double>(base.count()) * static_cast<double>(1LL << shift));
  unit = std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(d / 2 + unit * d / 2));
}

// Retry-After as delta-seconds (what the API server sends). Absent, malformed or an HTTP-date:
// nullopt, and the caller falls back to its own backoff.
inline std::optional<std::chrono::seconds> parse_retry_after(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty() || v.size() > 9) return std::nullopt;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return std::chrono::seconds(n);
}

}  // namespace meshtrust::kube
