// Pushing Secrets through the clusters' Kubernetes APIs, over REST: the same operation as
// `meshtrust push`, with the same options and the same per-cluster report.
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "api/json_body.h"
#include "api/problem.h"
#include "api/router.h"
#include "api/routes.h"
#include "ca/authority.h"
#include "ca/views.h"

namespace meshtrust::api {

using ca::Role;
using nlohmann::json;

namespace {

constexpr size_t kMaxClustersPerRequest = 10000;

ca::PushOptions push_options(const json& body) {
  ca::PushOptions o;
  o.dry_run = opt_bool(body, "dry_run").value_or(false);
  o.force = opt_bool(body, "force").value_or(false);
  if (auto n = opt_integer(body, "concurrency")) {
    if (*n < 1 || *n > 1024) throw bad_request("field 'concurrency' must be between 1 and 1024");
    o.concurrency = static_cast<size_t>(*n);
  }
  if (auto d = opt_integer(body, "deadline_seconds")) {
    if (*d < 1 || *d > 3600) throw bad_request("field 'deadline_seconds' must be between 1 and 3600");
    o.deadline = std::chrono::seconds(*d);
  }
  return o;
}

void send_run(Call& c, const ca::PushRun& run) { c.res.set_content(ca::to_json(run).dump(), "application/json"); }

}  // namespace

void add_push_routes(Router& r, ca::Authority& a, ca::ClusterGateway& gateway) {
  const auto operators = Access::roles_of({Role::Admin, Role::Issuer});
  const auto readers = Access::roles_of({Role::Admin, Role::Issuer, Role::Auditor}, true);

  r.add("POST", "/v1/push", "push.fleet", operators, [&a, &gateway](Call& c) {
    json body = json_body(c.req, {"clusters", "all", "dry_run", "force", "concurrency", "deadline_seconds"});
    auto names = opt_string_list(body, "clusters", kMaxClustersPerRequest, 63).value_or(std::vector<std::string>{});
    const bool all = opt_bool(body, "all").value_or(false);
    if (all == !names.empty()) throw bad_request("name the clusters to push in 'clusters', or set 'all' to true (not both)");
    auto run = a.push(c.actor(), names, push_options(body), gateway);
    send_run(c, run);
  });

  r.add("POST", "/v1/clusters/([^/]+)/push", "clusters.push", operators, [&a, &gateway](Call& c) {
    json body = json_body(c.req, {"dry_run", "force", "deadline_seconds"});
    auto run = a.push(c.actor(), {*c.cluster}, push_options(body), gateway);
    send_run(c, run);
  }, 1);

  r.add("GET", "/v1/clusters/([^/]+)/check", "clusters.check", operators, [&a, &gateway](Call& c) {
    auto rows = a.check_cluster(*c.cluster, gateway, ca::kAccessCheckDeadline);
    json arr = json::array();
    bool ok = true;
    for (const auto& row : rows) {
      arr.push_back(ca::to_json(row));
      ok = ok && row.ok;
    }
    c.res.set_content(json{{"cluster", *c.cluster}, {"checks", arr}, {"ok", ok}}.dump(), "application/json");
  }, 1);

  r.add("GET", "/v1/clusters/([^/]+)/pushes", "clusters.pushes", readers, [&a](Call& c) {
    std::uint32_t limit = 20;
    if (auto v = uint_param(c.req, "limit")) {
      if (*v < 1 || *v > 1000) throw bad_request("limit must be between 1 and 1000");
      limit = static_cast<std::uint32_t>(*v);
    }
    a.cluster(*c.cluster);  // 404 for an unknown cluster, as every cluster route answers
    json arr = json::array();
    for (const auto& p : a.push_history(*c.cluster, limit)) arr.push_back(ca::to_json(p));
    c.res.set_content(json{{"pushes", arr}}.dump(), "application/json");
  }, 1);
}

}  // namespace meshtrust::api
