#include <httplib.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "api/bundle_body.h"
#include "api/json_body.h"
#include "api/metrics.h"
#include "api/problem.h"
#include "api/router.h"
#include "api/routes.h"
#include "ca/authority.h"
#include "ca/profile.h"
#include "ca/views.h"
#include "kube/kubeconfig.h"
#include "kube/secret.h"
#include "pki/certificate.h"

namespace meshtrust::api {

using ca::Role;
using nlohmann::json;

namespace {

constexpr const char* kCluster = "/v1/clusters/([^/]+)";

void send_json(Call& c, int status, const json& body) {
  c.res.status = status;
  c.res.set_content(body.dump(), "application/json");
}

json certificate_json(const ca::CertificateRecord& rec) {
  json j = ca::to_json(rec);
  j["pem"] = pki::Certificate::from_der(rec.der).pem();
  return j;
}

ca::IssueOptions issue_options(const json& body) {
  ca::IssueOptions o;
  o.profile = opt_string(body, "profile", 32);
  o.key_algorithm = opt_string(body, "key_algorithm", 32);
  o.days = opt_days(body);
  return o;
}

}  // namespace

void add_cluster_routes(Router& r, ca::Authority& a, Metrics& m) {
  const auto readers = Access::roles_of({Role::Admin, Role::Issuer, Role::Auditor});
  const auto operators = Access::roles_of({Role::Admin, Role::Issuer});

  r.add("GET", "/v1/clusters", "clusters.list", readers, [&a](Call& c) {
    json arr = json::array();
    for (const auto& cl : a.clusters()) arr.push_back(ca::to_json(cl));
    send_json(c, 200, {{"clusters", arr}});
  });

  r.add("POST", "/v1/clusters", "clusters.create", operators, [&a](Call& c) {
    json body = json_body(c.req, {"name", "namespace", "secret_name", "kubeconfig", "context"});
    ca::ClusterRecord spec;
    auto name = opt_string(body, "name", 63);
    if (!name) throw bad_request("field 'name' is required");
    spec.name = *name;
    spec.ns = opt_string(body, "namespace", 63).value_or("istio-system");
    spec.secret_name = opt_string(body, "secret_name", 253).value_or("cacerts");
    auto context = opt_string(body, "context", 253);
    if (auto kubeconfig = opt_string(body, "kubeconfig", 48 * 1024)) {
      kube::ClusterAccess access;
      try {
        access = kube::parse_self_contained_kubeconfig(*kubeconfig, context.value_or(""));
      } catch (const kube::ConfigError& e) {
        throw ApiError(422, "/problems/invalid-kubeconfig", "Unusable kubeconfig", e.what());
      }
      spec.access = ca::ClusterAccessSpec{kube::to_kubeconfig(access), access.context, access.server.to_string(),
                                          kube::describe_auth(access.auth), access.insecure_skip_tls_verify};
    } else if (context) {
      throw bad_request("field 'context' selects a context of field 'kubeconfig', which is missing");
    }
    send_json(c, 201, ca::to_json(a.add_cluster(c.actor(), spec)));
  });

  r.add("GET", std::string(kCluster), "clusters.get", Access::roles_of({Role::Admin, Role::Issuer, Role::Auditor}, true),
        [&a](Call& c) { send_json(c, 200, ca::to_json(a.cluster(*c.cluster))); }, 1);

  r.add("DELETE", std::string(kCluster), "clusters.delete", operators, [&a](Call& c) {
    a.remove_cluster(c.actor(), *c.cluster);
    c.res.status = 204;
  }, 1);

  r.add("POST", std::string(kCluster) + "/intermediates", "clusters.issue", operators, [&a, &m](Call& c) {
    json body = json_body(c.req, {"profile", "key_algorithm", "days", "csr", "rotate"});
    auto o = issue_options(body);
    const bool rotate = opt_bool(body, "rotate").value_or(false);  // supersede the current intermediate
    ca::CertificateRecord rec;
    if (auto csr = opt_string(body, "csr", 16 * 1024))
      rec = a.issue_from_csr(c.actor(), *c.cluster, *csr, o, rotate);
    else if (rotate)
      rec = a.rotate(c.actor(), {*c.cluster}, o).front();
    else
      rec = a.issue(c.actor(), {*c.cluster}, o).front();
    m.count("meshtrust_intermediates_issued_total");
    send_json(c, 201, certificate_json(rec));
  }, 1);

  // The cluster itself submits its CSR: its key never leaves the cluster.
  r.add("POST", std::string(kCluster) + "/csr", "clusters.csr", Access::roles_of({Role::Admin, Role::Issuer}, true),
        [&a, &m](Call& c) {
          json body = json_body(c.req, {"csr", "days", "rotate"});
          auto csr = opt_string(body, "csr", 16 * 1024);
          if (!csr) throw bad_request("field 'csr' is required");
          ca::IssueOptions o;
          o.days = opt_days(body);
          // "rotate": true replaces the cluster's current intermediate with one for this CSR's key.
          auto rec = a.issue_from_csr(c.actor(), *c.cluster, *csr, o, opt_bool(body, "rotate").value_or(false));
          m.count("meshtrust_intermediates_issued_total");
          json j = certificate_json(rec);
          j["root-cert.pem"] = a.root_pem();
          send_json(c, 201, j);
        },
        1);

  r.add("GET", std::string(kCluster) + "/cacerts", "clusters.cacerts",
        Access::roles_of({Role::Admin, Role::Issuer, Role::Auditor}, true),
        [&a, &m, bodies = std::make_shared<BundleBodies>()](Call& c) {
          std::string format = c.req.has_param("format") ? c.req.get_param_value("format") : "json";
          if (format != "json" && format != "secret") throw bad_request("format must be 'json' or 'secret'");
          // The key goes only to the cluster itself, admins and issuers; auditors see the rest.
          const bool with_key = c.who && c.who->role != Role::Auditor;
          auto b = a.deliver_bundle(c.actor(), *c.cluster, with_key);
          m.count("meshtrust_bundle_deliveries_total");
          if (format == "secret") {
            auto cl = a.cluster(*c.cluster);
            c.res.set_content(kube::to_yaml(kube::cacerts_secret(b, cl.ns, cl.secret_name)), "application/yaml");
            return;
          }
          c.res.set_content(bodies->json_of(b), "application/json");
        },
        1);
}

void add_certificate_routes(Router& r, ca::Authority& a) {
  const auto readers = Access::roles_of({Role::Admin, Role::Issuer, Role::Auditor});
  r.add("GET", "/v1/certificates", "certificates.list", readers, [&a](Call& c) {
    ca::CertificateFilter f;
    if (c.req.has_param("cluster")) f.cluster = c.req.get_param_value("cluster");
    if (c.req.has_param("status")) {
      auto s = c.req.get_param_value("status");
      if (s != "active" && s != "superseded" && s != "revoked") throw bad_request("status must be active, superseded or revoked");
      f.status = ca::cert_status_from(s);
    }
    if (c.req.has_param("expiring_within")) {
      const auto& v = c.req.get_param_value("expiring_within");
      if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos)
        throw bad_request("expiring_within must be a number of days (0-36500)");
      long days = std::stol(v);
      if (days > 36500) throw bad_request("expiring_within must be a number of days (0-36500)");
      f.not_after_before = a.status().now + days * 86400;
    }
    json arr = json::array();
    for (const auto& rec : a.certificates(f)) arr.push_back(ca::to_json(rec));
    c.res.set_content(json{{"certificates", arr}}.dump(), "application/json");
  });
  r.add("GET", "/v1/certificates/([^/]+)", "certificates.get", readers, [&a](Call& c) {
    auto rec = a.certificate(c.req.matches[1].str());
    c.res.set_content(certificate_json(rec).dump(), "application/json");
  });
  r.add("POST", "/v1/certificates/([^/]+)/revoke", "certificates.revoke", Access::roles_of({Role::Admin, Role::Issuer}),
        [&a](Call& c) {
          json body = json_body(c.req, {"reason"});
          auto reason = opt_string(body, "reason", 64);
          if (!reason) throw bad_request("field 'reason' is required (an RFC 5280 reason such as keyCompromise)");
          auto r = a.revoke(c.actor(), c.req.matches[1].str(), *reason);
          send_json(c, 200, {{"serial", r.serial},
                             {"issuer_serial", r.issuer_serial},
                             {"reason", r.reason},
                             {"revoked_at", ca::date_utc(r.revoked_at_ms / 1000)},
                             {"actor", r.actor},
                             {"crl_number", r.crl_number ? json(*r.crl_number) : json(nullptr)}});
        });
  // Anyone may fetch the CRL (like the trust bundle): relying parties need it without a token.
  r.add("GET", "/v1/crl", "crl", Access::anyone(), [&a](Call& c) {
    std::string format = c.req.has_param("format") ? c.req.get_param_value("format") : "der";
    if (format != "der" && format != "pem") throw bad_request("format must be 'der' or 'pem'");
    auto crl = a.crl();
    if (format == "pem")
      c.res.set_content(pki::to_pem("X509 CRL", crl.der), "application/x-pem-file");
    else
      c.res.set_content(std::string(pki::as_chars(crl.der)), "application/pkix-crl");
  });
  r.add("GET", "/v1/status", "status", readers, [&a](Call& c) { send_json(c, 200, ca::status_json(a.status())); });
}

}  // namespace meshtrust::api
