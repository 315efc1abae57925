// Prometheus text exposition: request counters and latency histograms by route, counters the
// handlers bump, and gauges computed at scrape time (seconds until each certificate expires).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace meshtrust::ca {
class Authority;
}

namespace meshtrust::api {

class Metrics {
 public:
  void observe(const std::string& route, int status, std::chrono::duration<double> latency);
  void count(const std::string& name, double by = 1);
  // The exposition, with expiry gauges read from the authority now.
  std::string render(ca::Authority& authority);

 private:
  static constexpr std::array<double, 10> kBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, double> counters_;
};

}  // namespace meshtrust::api
