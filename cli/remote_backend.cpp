#include "cli/remote_backend.h"

#include <httplib.h>

#include <ctime>
#include <map>

#include <nlohmann/json.hpp>

#include "ca/errors.h"
#include "ca/merkle.h"
#include "ca/views.h"
#include "cli/files.h"
#include "pki/certificate.h"
#include "pki/error.h"
#include "pki/encoding.h"
#include "pki/key.h"

namespace meshtrust::cli {

namespace {

using nlohmann::json;

// A problem+json answer becomes the domain error whose meaning matches its status.
[[noreturn]] void throw_problem(const httplib::Result& r, const std::string& what) {
  std::string detail;
  try {
    detail = json::parse(r->body).value("detail", "");
  } catch (const json::exception&) {
  }
  if (detail.empty()) detail = "HTTP " + std::to_string(r->status);
  std::string msg = "server refused " + what + ": " + detail;
  switch (r->status) {
    case 404: throw ca::not_found(msg);
    case 409: throw ca::Error(ca::ErrorKind::Conflict, msg);
    case 401:
    case 403:
    case 422: throw ca::denied(msg);
    case 503: throw ca::Error(ca::ErrorKind::Storage, msg);
    default: throw ca::invalid(msg);
  }
}

std::string query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params) q += (q.empty() ? "?" : "&") + k + "=" + httplib::detail::encode_query_param(v);
  return q;
}

// The client, with the client certificate when there is one: checked here first so that a bad
// file gets a sentence rather than cpp-httplib's bare "not valid".
httplib::Client make_client(const RemoteOptions& o) {
  if (o.client_cert.empty()) return httplib::Client(o.url);
  try {
    auto chain = pki::Certificate::all_from_pem(read_input_file(o.client_cert, "client certificate", 64 * 1024));
    auto key = pki::PrivateKey::from_pem(read_input_file(o.client_key, "client key", 64 * 1024));
    if (chain.empty() || !key.matches(chain.front().public_key()))
      throw ca::invalid("--client-key '" + o.client_key + "' is not the key of --client-cert '" + o.client_cert + "'");
  } catch (const pki::Error& e) {
    throw ca::invalid("--client-cert/--client-key: " + std::string(e.what()));
  }
  return httplib::Client(o.url, o.client_cert, o.client_key);
}

class RemoteBackend final : public Backend {
 public:
  explicit RemoteBackend(const RemoteOptions& o) : client_(make_client(o)) {
    if (o.url.rfind("https://", 0) != 0) throw ca::invalid("--server must be an https:// URL");
    if (!client_.is_valid()) throw ca::invalid("--server '" + o.url.substr(0, 100) + "' is not a usable URL");
    if (!o.ca_file.empty()) client_.set_ca_cert_path(o.ca_file.c_str());
    client_.enable_server_certificate_verification(true);
    if (!o.token.empty()) client_.set_bearer_token_auth(o.token.c_str());
    client_.set_connection_timeout(10, 0);
    client_.set_read_timeout(600, 0);  // a fleet push answers when every cluster has
    client_.set_keep_alive(true);
  }

  ca::ClusterRecord add_cluster(const ca::ClusterRecord& s) override {
    json body = {{"name", s.name}, {"namespace", s.ns}, {"secret_name", s.secret_name}};
    if (s.access) {  // already self-contained: files were read here, by the CLI
      body["kubeconfig"] = s.access->kubeconfig;
      body["context"] = s.access->context;
    }
    return ca::cluster_from_json(post("/v1/clusters", body, "registering cluster " + s.name));
  }
  void remove_cluster(const std::string& n) override { del("/v1/clusters/" + n, "removing cluster " + n); }
  std::vector<ca::ClusterRecord> clusters() override {
    std::vector<ca::ClusterRecord> out;
    const json answer = get("/v1/clusters", "listing clusters");  // keep it alive while iterating
    for (const auto& j : answer.at("clusters")) out.push_back(ca::cluster_from_json(j));
    return out;
  }
  ca::ClusterRecord cluster(const std::string& n) override { return ca::cluster_from_json(get("/v1/clusters/" + n, "showing cluster " + n)); }

  std::vector<ca::CertificateRecord> issue(const std::vector<std::string>& names, const ca::IssueOptions& o,
                                           const ca::IssueProgress& progress) override {
    std::vector<ca::CertificateRecord> out;
    for (const auto& n : names) {
      out.push_back(ca::certificate_from_json(post("/v1/clusters/" + n + "/intermediates", options_json(o), "issuing for " + n)));
      if (progress) progress(out.size(), names.size(), out.back());
    }
    return out;
  }
  ca::CertificateRecord issue_from_csr(const std::string& n, const std::string& csr, const ca::IssueOptions& o,
                                       bool rotation) override {
    json body = options_json(o);
    body["csr"] = csr;
    if (rotation) body["rotate"] = true;
    return ca::certificate_from_json(post("/v1/clusters/" + n + "/intermediates", body, "signing the CSR of " + n));
  }
  std::vector<ca::CertificateRecord> rotate(const std::vector<std::string>& names, const ca::IssueOptions& o,
                                            const ca::IssueProgress& progress) override {
    std::vector<ca::CertificateRecord> out;
    for (const auto& n : names) {
      json body = options_json(o);
      body["rotate"] = true;
      out.push_back(ca::certificate_from_json(post("/v1/clusters/" + n + "/intermediates", body, "rotating " + n)));
      if (progress) progress(out.size(), names.size(), out.back());
    }
    return out;
  }
  ca::RevocationRecord revoke(const std::string& serial, const std::string& reason) override {
    json j = post("/v1/certificates/" + serial + "/revoke", {{"reason", reason}}, "revoking " + serial);
    try {
      ca::RevocationRecord r{j.at("serial"), j.at("issuer_serial"), j.at("reason"),
                             ca::parse_date_utc(j.at("revoked_at")) * 1000, j.at("actor"), std::nullopt};
      if (j.contains("crl_number") && j["crl_number"].is_number_unsigned()) r.crl_number = j["crl_number"].get<std::uint64_t>();
      return r;
    } catch (const json::exception&) {
      throw ca::invalid("the server's answer is not a revocation");
    }
  }
  ca::CrlRecord crl() override {
    std::string pem = get_text("/v1/crl?format=pem", "fetching the CRL");
    ca::CrlRecord c;
    try {
      auto blocks = pki::parse_pem(pem);
      if (blocks.empty() || blocks.front().label != "X509 CRL") throw ca::invalid("no CRL");
      c.der = blocks.front().der;
    } catch (const std::exception&) {
      throw ca::invalid("the server's answer to fetching the CRL is not a PEM CRL");
    }
    return c;
  }
  std::vector<ca::Bundle> export_bundles(const std::vector<std::string>& names) override {
    std::vector<ca::Bundle> out;
    for (const auto& n : names) {
      json j = get("/v1/clusters/" + n + "/cacerts", "fetching the bundle of " + n);
      out.push_back({n, j.value("serial", ""), "", j.at("ca-cert.pem"), j.at("cert-chain.pem"), j.at("root-cert.pem"),
                     j.value("ca-key.pem", ""), j.value("ca-crl.pem", ""), j.value("bundle_sha256", "")});
    }
    return out;
  }
  ca::WorkloadBundle issue_workload(const ca::WorkloadRequest&) override {
    throw ca::invalid("workload certificates are issued locally (with --data-dir), not through --server");
  }

  std::vector<ca::CertificateRecord> certificates(const ca::CertificateFilter& f) override {
    std::vector<std::pair<std::string, std::string>> q;
    if (f.cluster) q.emplace_back("cluster", *f.cluster);
    if (f.status) q.emplace_back("status", ca::to_string(*f.status));
    if (f.not_after_before) {
      auto days = (*f.not_after_before - static_cast<std::int64_t>(std::time(nullptr)) + 86399) / 86400;
      q.emplace_back("expiring_within", std::to_string(std::max<std::int64_t>(0, days)));
    }
    std::vector<ca::CertificateRecord> out;
    const json answer = get("/v1/certificates" + query(q), "listing certificates");
    for (const auto& j : answer.at("certificates")) {
      auto r = ca::certificate_from_json(j);
      if (!f.kind || r.kind == *f.kind) out.push_back(std::move(r));
    }
    return out;
  }
  ca::StatusReport status() override { return ca::status_from_json(get("/v1/status", "reading the status")); }

  ca::PushRun push(const std::vector<std::string>& names, const ca::PushOptions& o, const ca::PushProgress& progress) override {
    json body = {{"clusters", names},
                 {"dry_run", o.dry_run},
                 {"force", o.force},
                 {"concurrency", o.concurrency},
                 {"deadline_seconds", std::chrono::duration_cast<std::chrono::seconds>(o.deadline).count()}};
    auto run = ca::push_run_from_json(post("/v1/push", body, "pushing"));
    if (progress) {
      size_t failed = 0;
      for (const auto& r : run.reports) failed += r.outcome.result == ca::PushResult::Failed;
      progress(run.reports.size(), failed, run.reports.size());
    }
    return run;
  }
  std::vector<ca::AccessCheck> check_cluster(const std::string& n) override {
    return ca::access_checks_from_json(get("/v1/clusters/" + n + "/check", "checking cluster " + n));
  }
  std::vector<ca::PushRecord> push_history(const std::string& n, std::uint32_t limit) override {
    std::vector<ca::PushRecord> out;
    const json answer = get("/v1/clusters/" + n + "/pushes" + query({{"limit", std::to_string(limit)}}), "reading pushes of " + n);
    for (const auto& j : answer.at("pushes")) out.push_back(ca::push_record_from_json(j));
    return out;
  }

  ca::AuditPage audit_events(const ca::AuditFilter& f) override {
    std::vector<std::pair<std::string, std::string>> q{{"limit", std::to_string(f.limit)}};
    if (f.after_index) q.emplace_back("cursor", std::to_string(f.after_index));
    if (f.since_ms) q.emplace_back("since", std::to_string(*f.since_ms));
    if (f.until_ms) q.emplace_back("until", std::to_string(*f.until_ms));
    for (auto [k, v] : {std::pair{"actor", &f.actor}, {"action", &f.action}, {"cluster", &f.cluster}, {"serial", &f.serial},
                        {"outcome", &f.outcome}})
      if (*v) q.emplace_back(k, **v);
    json j = get("/v1/audit/events" + query(q), "listing audit events");
    ca::AuditPage page;
    for (const auto& e : j.at("events")) {
      ca::AuditRecord r;
      r.index = e.at("index");
      r.leaf = e.at("leaf");
      r.actor = e.at("actor");
      r.action = e.at("action");
      r.cluster = e.at("cluster").is_null() ? std::nullopt : std::optional<std::string>(e.at("cluster"));
      r.serial = e.at("serial").is_null() ? std::nullopt : std::optional<std::string>(e.at("serial"));
      r.outcome = e.at("outcome");
      r.time_ms = ca::parse_date_utc(e.at("time").get<std::string>().substr(0, 19) + "Z") * 1000 +
                  std::stoi(e.at("time").get<std::string>().substr(20, 3));
      page.events.push_back(std::move(r));
    }
    if (!j.at("next_cursor").is_null()) page.next_cursor = std::stoull(j.at("next_cursor").get<std::string>());
    return page;
  }
  ca::TreeHead audit_head() override { return ca::tree_head_from_json(get("/v1/audit/tree-head", "reading the tree head")); }
  ca::InclusionProof audit_inclusion(std::uint64_t i, std::optional<std::uint64_t> n) override {
    std::vector<std::pair<std::string, std::string>> q{{"index", std::to_string(i)}};
    if (n) q.emplace_back("tree_size", std::to_string(*n));
    json j = get("/v1/audit/proof/inclusion" + query(q), "proving inclusion");
    ca::InclusionProof p{j.at("index"), j.at("tree_size"), pki::from_hex(j.at("leaf_hash").get<std::string>()), {}};
    for (const auto& h : j.at("audit_path")) p.audit_path.push_back(pki::from_hex(h.get<std::string>()));
    return p;
  }
  ca::ConsistencyProof audit_consistency(std::uint64_t m, std::uint64_t n) override {
    json j = get("/v1/audit/proof/consistency" + query({{"first", std::to_string(m)}, {"second", std::to_string(n)}}),
                 "proving consistency");
    ca::ConsistencyProof p{j.at("first"), j.at("second"), {}};
    for (const auto& h : j.at("proof")) p.proof.push_back(pki::from_hex(h.get<std::string>()));
    return p;
  }
  std::string audit_public_key_pem() override { return get_text("/v1/audit/public-key", "reading the audit key"); }

  // An auditor's check that needs no trust in the server: fetch every event, rebuild the tree
  // and compare it with the latest signed head and its signature.
  ca::AuditVerifyReport verify_audit() override {
    auto key = pki::PublicKey::from_der(pki::parse_pem(audit_public_key_pem()).front().der);
    auto head = audit_head();
    ca::AuditVerifyReport report;
    ca::merkle::CompactRange range;
    ca::AuditFilter f;
    f.limit = 1000;
    while (range.size() < head.tree_size) {
      f.after_index = range.size();
      auto page = audit_events(f);
      for (const auto& e : page.events) {
        if (e.index != range.size() || range.size() >= head.tree_size) break;
        range.push(ca::merkle::leaf_hash(pki::as_bytes(e.leaf)));
      }
      if (page.events.empty() || !page.next_cursor) break;
    }
    report.tree_size = range.size();
    report.heads_checked = 1;
    auto root = range.root();
    auto fail = [&](std::uint64_t at, const std::string& why) {
      report.ok = false;
      report.first_bad_index = at;
      report.problem = why;
    };
    if (range.size() != head.tree_size)
      fail(range.size(), "the server served " + std::to_string(range.size()) + " events but its head covers " +
                             std::to_string(head.tree_size));
    else if (!std::equal(root.begin(), root.end(), head.root_hash.begin(), head.root_hash.end()))
      fail(head.tree_size ? head.tree_size - 1 : 0, "the served events do not hash to the signed head's root");
    else if (!pki::verify_sha256(key, pki::as_bytes(ca::tree_head_message(head.tree_size, head.root_hash, head.timestamp_ms)),
                                 head.signature))
      fail(head.tree_size ? head.tree_size - 1 : 0, "the signed head's signature does not verify");
    return report;
  }

  ca::Authority::NewToken create_token(ca::Role role, const std::string& name, std::optional<std::chrono::seconds> ttl) override {
    json body = principal_body(role, name);
    if (ttl) body["ttl_seconds"] = ttl->count();
    json j = post("/v1/tokens", body, "creating a token");
    return {ca::token_from_json(j), j.at("token")};
  }
  std::vector<ca::TokenRecord> tokens() override {
    std::vector<ca::TokenRecord> out;
    const json answer = get("/v1/tokens", "listing tokens");
    for (const auto& j : answer.at("tokens")) out.push_back(ca::token_from_json(j));
    return out;
  }
  void revoke_token(const std::string& id) override { del("/v1/tokens/" + id, "revoking token " + id); }
  ca::Authority::ClientCredentials issue_client_certificate(ca::Role role, const std::string& name,
                                                            const std::optional<std::string>& csr_pem,
                                                            std::optional<int> days) override {
    json body = principal_body(role, name);
    if (csr_pem) body["csr"] = *csr_pem;
    if (days) body["days"] = *days;
    json j = post("/v1/client-certificates", body, "issuing a client certificate");
    return {ca::certificate_from_json(j), j.at("certificate_pem"), j.value("key_pem", "")};
  }

 private:
  // Whom a new credential is for, as POST /v1/tokens and /v1/client-certificates take it.
  static json principal_body(ca::Role role, const std::string& name) {
    return {{"role", ca::to_string(role)}, {role == ca::Role::Cluster ? "cluster" : "name", name}};
  }
  static json options_json(const ca::IssueOptions& o) {
    json j = json::object();
    if (o.profile) j["profile"] = *o.profile;
    if (o.key_algorithm) j["key_algorithm"] = *o.key_algorithm;
    if (o.days) j["days"] = *o.days;
    return j;
  }
  httplib::Result check(httplib::Result r, const std::string& what) {
    if (!r) throw ca::Error(ca::ErrorKind::Storage, "cannot reach the server while " + what + ": " + httplib::to_string(r.error()));
    if (r->status >= 300) throw_problem(r, what);
    return r;
  }
  json parse(const httplib::Result& r, const std::string& what) {
    try {
      return json::parse(r->body);
    } catch (const json::exception&) {
      throw ca::invalid("the server's answer to " + what + " is not JSON");
    }
  }
  json get(const std::string& path, const std::string& what) { return parse(check(client_.Get(path), what), what); }
  std::string get_text(const std::string& path, const std::string& what) { return check(client_.Get(path), what)->body; }
  json post(const std::string& path, const json& body, const std::string& what) {
    return parse(check(client_.Post(path, body.dump(), "application/json"), what), what);
  }
  void del(const std::string& path, const std::string& what) { check(client_.Delete(path), what); }

  httplib::Client client_;
};

}  // namespace

std::unique_ptr<Backend> make_remote_backend(const RemoteOptions& options) { return std::make_unique<RemoteBackend>(options); }

}  // namespace meshtrust::cli
