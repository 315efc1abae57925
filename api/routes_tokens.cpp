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

// The principal a new credential is for: fields role and name, or cluster for role 'cluster'.
std::pair<Role, std::string> principal_fields(const json& body, const char* credential) {
  auto role_text = opt_string(body, "role", 16);
  if (!role_text) throw bad_request("field 'role' is required");
  Role role = ca::role_from(*role_text);
  auto name = opt_string(body, "name", 64), cluster = opt_string(body, "cluster", 63);
  if (role == Role::Cluster) {
    if (!cluster) throw bad_request(std::string("a cluster ") + credential + " needs field 'cluster'");
    return {role, *cluster};
  }
  if (cluster) throw bad_request("field 'cluster' applies only to role 'cluster'");
  if (!name) throw bad_request("field 'name' is required (it becomes the audit actor, e.g. admin:alice)");
  return {role, *name};
}

}  // namespace

// Credentials: bearer tokens and client certificates, both created by admins only.
void add_token_routes(Router& r, ca::Authority& a) {
  const auto admins = Access::roles_of({Role::Admin});
  r.add("POST", "/v1/tokens", "tokens.create", admins, [&a](Call& c) {
    json body = json_body(c.req, {"role", "name", "cluster", "ttl_seconds"});
    auto [role, name] = principal_fields(body, "token");
    std::optional<std::chrono::seconds> ttl;
    if (auto t = opt_integer(body, "ttl_seconds")) ttl = std::chrono::seconds(*t);
    auto created = a.create_token(c.actor(), role, name, ttl);
    json j = ca::to_json(created.record);
    j["token"] = created.token;
    c.res.status = 201;
    c.res.set_content(j.dump(), "application/json");
  });
  r.add("GET", "/v1/tokens", "tokens.list", admins, [&a](Call& c) {
    json arr = json::array();
    for (const auto& t : a.tokens()) arr.push_back(ca::to_json(t));
    c.res.set_content(json{{"tokens", arr}}.dump(), "application/json");
  });
  r.add("DELETE", "/v1/tokens/([^/]+)", "tokens.revoke", admins, [&a](Call& c) {
    a.revoke_token(c.actor(), c.req.matches[1].str());
    c.res.status = 204;
  });
  // Revoked like any certificate: POST /v1/certificates/{serial}/revoke.
  r.add("POST", "/v1/client-certificates", "client_certificates.create", admins, [&a](Call& c) {
    json body = json_body(c.req, {"role", "name", "cluster", "days", "csr"});
    auto [role, name] = principal_fields(body, "client certificate");
    auto issued = a.issue_client_certificate(c.actor(), role, name, opt_string(body, "csr", 16 * 1024), opt_days(body));
    json j = ca::to_json(issued.record);
    j["certificate_pem"] = issued.certificate_pem;
    if (!issued.key_pem.empty()) j["key_pem"] = issued.key_pem;
    c.res.status = 201;
    c.res.set_content(j.dump(), "application/json");
  });
}

}  // namespace meshtrust::api
