#include "api/auth_throttle.h"

#include <algorithm>

namespace meshtrust::api {

std::chrono::milliseconds AuthThrottle::on_failure(const std::string& peer) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (peers_.size() > 100000) peers_.clear();  // bound memory under a spray of addresses
  auto& e = peers_[peer];
  if (now - e.last > kWindow) e.failures = 0;
  e.last = now;
  ++e.failures;
  if (e.failures <= kFree) return std::chrono::milliseconds(0);
  int doublings = std::min(e.failures - kFree, 10);
  return std::min(kMax, std::chrono::milliseconds(50) * (1 << doublings));
}

void AuthThrottle::on_success(const std::string& peer) {
  std::lock_guard lock(mu_);
  peers_.erase(peer);
}

}  // namespace meshtrust::api
