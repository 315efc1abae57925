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

  // Delivery: what the pushes (CLI, REST and the reconcile loop) did and where each cluster stands
  // (in the status already: one read of the push records per scrape).
  out << "# HELP meshtrust_pushes_total Push outcomes since this server started, by result.\n"
         "# TYPE meshtrust_pushes_total counter\n";
  for (auto r : {ca::PushResult::Created, ca::PushResult::Replaced, ca::PushResult::Unchanged, ca::PushResult::Failed}) {
    auto it = status.pushes.find(r);
    out << "meshtrust_pushes_total{result=\"" << ca::to_string(r) << "\"} " << (it == status.pushes.end() ? 0 : it->second)
        << "\n";
  }
  std::map<ca::DeliveryState, size_t> states;
  for (const auto& c : status.clusters) ++states[c.delivery.state];
  out << "# HELP meshtrust_clusters_by_delivery_state Clusters in sync, drifted (current bundle not pushed yet), failing "
         "(last push failed) or unmanaged (no kubeconfig).\n# TYPE meshtrust_clusters_by_delivery_state gauge\n";
  for (auto st : {ca::DeliveryState::InSync, ca::DeliveryState::Drifted, ca::DeliveryState::Failing, ca::DeliveryState::Unmanaged})
    out << "meshtrust_clusters_by_delivery_state{state=\"" << ca::to_string(st) << "\"} " << states[st] << "\n";
  out << "# HELP meshtrust_cluster_last_successful_push_timestamp_seconds When each cluster's Secret was last pushed "
         "successfully (unix time).\n# TYPE meshtrust_cluster_last_successful_push_timestamp_seconds gauge\n";
  for (const auto& c : status.clusters)
    if (c.delivery.last_success)
      out << "meshtrust_cluster_last_successful_push_timestamp_seconds{cluster=\"" << label(c.cluster.name) << "\"} "
          << c.delivery.last_success->time_ms / 1000 << "\n";
  out << "# HELP meshtrust_cluster_roots_taken_up Whether istiod published the bundle's roots in istio-ca-root-cert "
         "(1), or not yet (0), as the reconcile loop last saw it.\n# TYPE meshtrust_cluster_roots_taken_up gauge\n";
  for (const auto& c : status.clusters)
    if (c.delivery.roots != ca::RootsStatus::NotChecked)
      out << "meshtrust_cluster_roots_taken_up{cluster=\"" << label(c.cluster.name) << "\"} "
          << (c.delivery.roots == ca::RootsStatus::TakenUp ? 1 : 0) << "\n";
  return out.str();
}

}  // namespace meshtrust::api
