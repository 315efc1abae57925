#include <httplib.h>

#include <nlohmann/json.hpp>

#include "api/json_body.h"
#include "api/problem.h"
#include "api/router.h"
#include "api/routes.h"
#include "ca/authority.h"
#include "ca/views.h"
#include "pki/encoding.h"

namespace meshtrust::api {

using ca::Role;
using nlohmann::json;

namespace {

std::optional<std::string> str_param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  auto v = req.get_param_value(name);
  if (v.size() > 256) throw bad_request(std::string("query parameter '") + name + "' is too long");
  return v;
}

json hex_list(const std::vector<pki::Bytes>& hs) {
  json arr = json::array();
  for (const auto& h : hs) arr.push_back(pki::to_hex(h));
  return arr;
}

}  // namespace

void add_audit_routes(Router& r, ca::Authority& a) {
  const auto auditors = Access::roles_of({Role::Admin, Role::Auditor});

  r.add("GET", "/v1/audit/events", "audit.events", auditors, [&a](Call& c) {
    ca::AuditFilter f;
    if (auto v = uint_param(c.req, "since")) f.since_ms = static_cast<std::int64_t>(*v);
    if (auto v = uint_param(c.req, "until")) f.until_ms = static_cast<std::int64_t>(*v);
    f.actor = str_param(c.req, "actor");
    f.action = str_param(c.req, "action");
    f.cluster = str_param(c.req, "cluster");
    f.serial = str_param(c.req, "serial");
    f.outcome = str_param(c.req, "outcome");
    if (f.outcome && *f.outcome != "success" && *f.outcome != "failure") throw bad_request("outcome must be success or failure");
    if (auto v = uint_param(c.req, "limit")) {
      if (*v < 1 || *v > 1000) throw bad_request("limit must be between 1 and 1000");
      f.limit = static_cast<std::uint32_t>(*v);
    }
    if (auto v = uint_param(c.req, "cursor")) f.after_index = *v;
    auto page = a.audit_events(f);
    json events = json::array();
    for (const auto& e : page.events) {
      // Decoded fields come from the leaf itself, which is what the tree commits to.
      json j = json::parse(e.leaf);
      j["leaf"] = e.leaf;
      events.push_back(std::move(j));
    }
    json body = {{"events", events}, {"next_cursor", page.next_cursor ? json(std::to_string(*page.next_cursor)) : json(nullptr)}};
    c.res.set_content(body.dump(), "application/json");
  });

  r.add("GET", "/v1/audit/tree-head", "audit.tree-head", auditors,
        [&a](Call& c) { c.res.set_content(ca::to_json(a.audit_head()).dump(), "application/json"); });

  r.add("GET", "/v1/audit/proof/inclusion", "audit.inclusion", auditors, [&a](Call& c) {
    auto index = uint_param(c.req, "index");
    if (!index) throw bad_request("query parameter 'index' is required");
    auto p = a.audit_inclusion(*index, uint_param(c.req, "tree_size"));
    c.res.set_content(json{{"index", p.index},
                           {"tree_size", p.tree_size},
                           {"leaf_hash", pki::to_hex(p.leaf_hash)},
                           {"audit_path", hex_list(p.audit_path)}}
                          .dump(),
                      "application/json");
  });

  r.add("GET", "/v1/audit/proof/consistency", "audit.consistency", auditors, [&a](Call& c) {
    auto first = uint_param(c.req, "first"), second = uint_param(c.req, "second");
    if (!first || !second) throw bad_request("query parameters 'first' and 'second' are required");
    auto p = a.audit_consistency(*first, *second);
    c.res.set_content(json{{"first", p.first}, {"second", p.second}, {"proof", hex_list(p.proof)}}.dump(), "application/json");
  });

  r.add("GET", "/v1/audit/public-key", "audit.public-key", auditors,
        [&a](Call& c) { c.res.set_content(a.audit_public_key_pem(), "application/x-pem-file"); });
}

}  // namespace meshtrust::api
