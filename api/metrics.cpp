#include "api/metrics.h"

#include <ctime>
#include <sstream>

#include "ca/authority.h"

namespace meshtrust::api {

namespace {
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

void Metrics::observe(const std::string& route, int status, std::chrono::duration<double> latency) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  auto& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (latency.count() <= kBuckets[i]) ++h.buckets[i];
  ++h.count;
  h.sum += latency.count();
}

void Metrics::count(const std::string& name, double by) {
  std::lock_guard lock(mu_);
  counters_[name] += by;
}

std::string Metrics::render(ca::Authority& authority) {
  std::ostringstream out;
  {
    std::lock_guard lock(mu_);
    out << "# HELP meshtrust_http_requests_total HTTP requests by route and status code.\n"
           "# TYPE meshtrust_http_requests_total counter\n";
    for (const auto& [k, v] : requests_)
      out << "meshtrust_http_requests_total{route=\"" << label(k.first) << "\",code=\"" << k.second << "\"} " << v << "\n";
    out << "# HELP meshtrust_http_request_duration_seconds Request latency by route.\n"
           "# TYPE meshtrust_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency_) {
      for (size_t i = 0; i < kBuckets.size(); ++i)
        out << "meshtrust_http_request_duration_seconds_bucket{route=\"" << label(route) << "\",le=\"" << kBuckets[i] << "\"} "
            << h.buckets[i] << "\n";
      out << "meshtrust_http_request_duration_seconds_bucket{route=\"" << label(route) << "\",le=\"+Inf\"} " << h.count << "\n";
      out << "meshtrust_http_request_duration_seconds_sum{route=\"" << label(route) << "\"} " << h.sum << "\n";
      out << "meshtrust_http_request_duration_seconds_count{route=\"" << label(route) << "\"} " << h.count << "\n";
    }
    for (const auto& [name, v] : counters_) out << "# TYPE " << name << " counter\n" << name << " " << v << "\n";
  }
  auto status = authority.status();
  out << "# HELP meshtrust_certificate_expiry_seconds Seconds until the root and each cluster's current intermediate expire.\n"
         "# TYPE meshtrust_certificate_expiry_seconds gauge\n";
  out << "meshtrust_certificate_expiry_seconds{kind=\"root\",serial=\"" << status.root.serial << "\"} "
      << (status.root.not_after - status.now) << "\n";
  for (const auto& c : status.clusters)
    if (c.intermediate)
      out << "meshtrust_certificate_expiry_seconds{kind=\"intermediate\",cluster=\"" << label(c.cluster.name) << "\",serial=\""
          << c.intermediate->serial << "\"} " << (c.intermediate->not_after - status.now) << "\n";
  out << "# HELP meshtrust_clusters Registered clusters.\n# TYPE meshtrust_clusters gauge\nmeshtrust_clusters "
      << status.clusters.size() << "\n";
  return out.str();
}

}  // namespace meshtrust::api
