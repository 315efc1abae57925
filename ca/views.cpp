#include "ca/views.h"

#include <cstdio>
#include <ctime>

#include "ca/errors.h"
#include "pki/encoding.h"

namespace meshtrust::ca {

std::string date_utc(std::int64_t s) {
  std::time_t t = static_cast<std::time_t>(s);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::int64_t days_left(std::int64_t not_after, std::int64_t now) {
  std::int64_t d = not_after - now;
  return d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
}

namespace {
nlohmann::json opt(const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }
}  // namespace

nlohmann::json to_json(const CertificateRecord& r) {
  nlohmann::json j = {{"serial", r.serial},
          {"kind", to_string(r.kind)},
          {"cluster", opt(r.cluster)},
          {"subject", r.subject},
          {"issuer_serial", r.issuer_serial.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.issuer_serial)},
          {"not_before", date_utc(r.not_before)},
          {"not_after", date_utc(r.not_after)},
          {"status", to_string(r.status)},
          {"profile", r.profile},
          {"key_algorithm", r.key_algorithm},
          {"key_held_by", r.key_id ? "meshtrust" : (r.from_csr ? "cluster" : "recipient")},
          {"fingerprint_sha256", r.fingerprint_sha256}};
  if (r.principal) j["principal"] = *r.principal;
  return j;
}

nlohmann::json to_json(const ClusterRecord& c) {
  nlohmann::json access = nullptr;  // the description only: the kubeconfig never leaves the vault
  if (c.access)
    access = {{"server", c.access->server},
              {"context", c.access->context},
              {"auth", c.access->auth},
              {"insecure_skip_tls_verify", c.access->insecure}};
  return {{"name", c.name},
          {"namespace", c.ns},
          {"secret_name", c.secret_name},
          {"intermediate_serial", opt(c.current_serial)},
          {"kubernetes", access}};
}

nlohmann::json to_json(const PushReport& r) {
  const auto& o = r.outcome;
  nlohmann::json j = {{"cluster", r.cluster},
                      {"result", to_string(o.result)},
                      {"serial", opt(r.serial)},
                      {"attempts", o.attempts},
                      {"duration_ms", r.duration_ms},
                      {"changes", o.changes},
                      {"warnings", o.warnings}};
  if (!o.error.empty()) j["error"] = o.error;
  if (o.namespace_created) j["namespace_created"] = true;
  if (o.roots != RootsStatus::NotChecked) j["roots"] = to_string(o.roots);
  return j;
}

nlohmann::json to_json(const PushRun& run) {
  nlohmann::json reports = nlohmann::json::array(), skipped = nlohmann::json::array();
  for (const auto& r : run.reports) reports.push_back(to_json(r));
  for (const auto& [name, why] : run.skipped) skipped.push_back({{"cluster", name}, {"reason", why}});
  return {{"clusters", reports}, {"skipped", skipped}};
}

nlohmann::json to_json(const PushRecord& r) {
  return {{"id", r.id},
          {"cluster", r.cluster},
          {"time", date_utc(r.time_ms / 1000)},
          {"actor", r.actor},
          {"result", to_string(r.result)},
          {"serial", opt(r.serial)},
          {"bundle_sha256", r.bundle_sha256},
          {"error", r.error},
          {"attempts", r.attempts},
          {"duration_ms", r.duration_ms}};
}

nlohmann::json to_json(const AccessCheck& c) { return {{"check", c.what}, {"ok", c.ok}, {"detail", c.detail}}; }

nlohmann::json to_json(const TokenRecord& t) {
  return {{"id", t.id},
          {"role", to_string(t.role)},
          {"name", t.name},
          {"created_at", date_utc(t.created_at_ms / 1000)},
          {"expires_at", t.expires_at_ms ? nlohmann::json(date_utc(*t.expires_at_ms / 1000)) : nlohmann::json(nullptr)},
          {"revoked", t.revoked}};
}

nlohmann::json to_json(const TreeHead& h) {
  return {{"tree_size", h.tree_size},
          {"root_hash", pki::to_hex(h.root_hash)},
          {"timestamp", h.timestamp_ms},
          {"signature", pki::base64_encode(h.signature)}};
}

nlohmann::json status_json(const StatusReport& s) {
  nlohmann::json clusters = nlohmann::json::array();
  for (const auto& c : s.clusters) {
    nlohmann::json j = {{"name", c.cluster.name},  {"serial", nullptr},
                        {"not_after", nullptr},    {"days_left", nullptr},
                        {"status", nullptr},       {"rotation_due", !c.rotation_due.empty()},
                        {"due_reason", c.rotation_due.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.rotation_due)},
                        {"delivery", to_string(c.delivery.state)},
                        {"last_push", nullptr},    {"last_push_result", nullptr},
                        {"last_successful_push", nullptr}};
    if (c.intermediate) {
      j["serial"] = c.intermediate->serial;
      j["not_after"] = date_utc(c.intermediate->not_after);
      j["days_left"] = days_left(c.intermediate->not_after, s.now);
      j["status"] = to_string(c.intermediate->status);
      j["key_held_by"] = c.intermediate->from_csr ? "cluster" : "meshtrust";
    }
    if (c.delivery.last_attempt) {
      j["last_push"] = date_utc(c.delivery.last_attempt->time_ms / 1000);
      j["last_push_result"] = to_string(c.delivery.last_attempt->result);
    }
    if (c.delivery.last_success) j["last_successful_push"] = date_utc(c.delivery.last_success->time_ms / 1000);
    clusters.push_back(j);
  }
  return {{"root",
           {{"serial", s.root.serial},
            {"subject", s.root.subject},
            {"key_algorithm", s.root.key_algorithm},
            {"not_after", date_utc(s.root.not_after)},
            {"days_left", days_left(s.root.not_after, s.now)}}},
          {"trust", s.trust},
          {"root_rotation", s.rotation ? nlohmann::json(to_string(*s.rotation)) : nlohmann::json(nullptr)},
          {"now", date_utc(s.now)},
          {"clusters", clusters}};
}

std::int64_t parse_date_utc(const std::string& text) {
  struct tm tm {};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &sec) != 6)
    throw invalid("'" + text.substr(0, 40) + "' is not a UTC time");
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<std::int64_t>(timegm(&tm));
}

namespace {
std::optional<std::string> opt_str(const nlohmann::json& j, const char* k) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}
template <class F>
auto reading(const char* what, F f) {
  try {
    return f();
  } catch (const nlohmann::json::exception&) {
    throw invalid(std::string("the server's answer is not a ") + what);
  }
}
}  // namespace

CertificateRecord certificate_from_json(const nlohmann::json& j) {
  return reading("certificate", [&] {
    CertificateRecord r;
    r.serial = j.at("serial");
    r.kind = cert_kind_from(j.at("kind"));
    r.cluster = opt_str(j, "cluster");
    r.subject = j.at("subject");
    r.issuer_serial = opt_str(j, "issuer_serial").value_or("");
    r.not_before = parse_date_utc(j.at("not_before"));
    r.not_after = parse_date_utc(j.at("not_after"));
    r.status = cert_status_from(j.at("status"));
    r.profile = j.at("profile");
    r.key_algorithm = j.at("key_algorithm");
    std::string held = j.at("key_held_by");
    if (held == "meshtrust") r.key_id = "remote";
    r.from_csr = held == "cluster";
    r.fingerprint_sha256 = j.at("fingerprint_sha256");
    r.principal = opt_str(j, "principal");
    return r;
  });
}

ClusterRecord cluster_from_json(const nlohmann::json& j) {
  return reading("cluster", [&] {
    ClusterRecord c{j.at("name"), j.at("namespace"), j.at("secret_name"), 0, opt_str(j, "intermediate_serial"), std::nullopt};
    if (j.contains("kubernetes") && j["kubernetes"].is_object()) {
      const auto& a = j["kubernetes"];
      c.access = ClusterAccessSpec{"", a.at("context"), a.at("server"), a.at("auth"), a.at("insecure_skip_tls_verify")};
    }
    return c;
  });
}

PushRun push_run_from_json(const nlohmann::json& j) {
  return reading("push result", [&] {
    PushRun run;
    for (const auto& r : j.at("clusters")) {
      PushReport p;
      p.cluster = r.at("cluster");
      p.outcome.result = push_result_from(r.at("result"));
      p.serial = opt_str(r, "serial");
      p.outcome.attempts = r.at("attempts");
      p.duration_ms = r.at("duration_ms");
      p.outcome.changes = r.at("changes").get<std::vector<std::string>>();
      p.outcome.warnings = r.at("warnings").get<std::vector<std::string>>();
      if (auto e = opt_str(r, "error")) p.outcome.error = *e;
      p.outcome.namespace_created = r.value("namespace_created", false);
      constexpr RootsStatus kRoots[] = {RootsStatus::TakenUp, RootsStatus::Pending};
      if (auto roots = opt_str(r, "roots")) p.outcome.roots = enum_from(*roots, kRoots).value_or(RootsStatus::Pending);
      run.reports.push_back(std::move(p));
    }
    for (const auto& s : j.at("skipped")) run.skipped.emplace_back(s.at("cluster"), s.at("reason"));
    return run;
  });
}

PushRecord push_record_from_json(const nlohmann::json& j) {
  return reading("push record", [&] {
    PushRecord r;
    r.id = j.at("id");
    r.cluster = j.at("cluster");
    r.time_ms = parse_date_utc(j.at("time")) * 1000;
    r.actor = j.at("actor");
    r.result = push_result_from(j.at("result"));
    r.serial = opt_str(j, "serial");
    r.bundle_sha256 = j.at("bundle_sha256");
    r.error = j.at("error");
    r.attempts = j.at("attempts");
    r.duration_ms = j.at("duration_ms");
    return r;
  });
}

std::vector<AccessCheck> access_checks_from_json(const nlohmann::json& j) {
  return reading("cluster check", [&] {
    std::vector<AccessCheck> out;
    for (const auto& c : j.at("checks")) out.push_back({c.at("check"), c.at("ok"), c.at("detail")});
    return out;
  });
}

TokenRecord token_from_json(const nlohmann::json& j) {
  return reading("token", [&] {
    TokenRecord t;
    t.id = j.at("id");
    t.role = role_from(j.at("role"));
    t.name = j.at("name");
    t.created_at_ms = parse_date_utc(j.at("created_at")) * 1000;
    if (auto e = opt_str(j, "expires_at")) t.expires_at_ms = parse_date_utc(*e) * 1000;
    t.revoked = j.at("revoked");
    return t;
  });
}

TreeHead tree_head_from_json(const nlohmann::json& j) {
  return reading("tree head", [&] {
    return TreeHead{j.at("tree_size"), pki::from_hex(j.at("root_hash").get<std::string>()), j.at("timestamp"),
                    pki::base64_decode(j.at("signature").get<std::string>())};
  });
}

StatusReport status_from_json(const nlohmann::json& j) {
  return reading("status", [&] {
    StatusReport s;
    s.now = parse_date_utc(j.at("now"));
    const auto& root = j.at("root");
    s.root.serial = root.at("serial");
    s.root.subject = root.at("subject");
    s.root.key_algorithm = root.at("key_algorithm");
    s.root.not_after = parse_date_utc(root.at("not_after"));
    s.root.kind = CertKind::Root;
    s.trust = j.at("trust").get<std::vector<std::string>>();
    if (!j.at("root_rotation").is_null()) s.rotation = rotation_phase_from(j.at("root_rotation"));
    for (const auto& c : j.at("clusters")) {
      ClusterStatus cs;
      cs.cluster.name = c.at("name");
      if (!c.at("serial").is_null()) {
        CertificateRecord rec;
        rec.serial = c.at("serial");
        rec.not_after = parse_date_utc(c.at("not_after"));
        rec.status = cert_status_from(c.at("status"));
        rec.from_csr = c.value("key_held_by", "meshtrust") == "cluster";
        rec.cluster = cs.cluster.name;
        cs.intermediate = rec;
        cs.cluster.current_serial = rec.serial;
      }
      if (auto why = opt_str(c, "due_reason")) cs.rotation_due = *why;
      cs.delivery.cluster = cs.cluster.name;
      constexpr DeliveryState kStates[] = {DeliveryState::Unmanaged, DeliveryState::InSync, DeliveryState::Drifted,
                                           DeliveryState::Failing};
      cs.delivery.state = enum_from(c.at("delivery").get<std::string>(), kStates).value_or(DeliveryState::Unmanaged);
      if (auto t = opt_str(c, "last_push")) {
        PushRecord p;
        p.cluster = cs.cluster.name;
        p.time_ms = parse_date_utc(*t) * 1000;
        p.result = push_result_from(c.at("last_push_result"));
        cs.delivery.last_attempt = p;
      }
      if (auto t = opt_str(c, "last_successful_push")) {
        PushRecord p;
        p.cluster = cs.cluster.name;
        p.time_ms = parse_date_utc(*t) * 1000;
        cs.delivery.last_success = p;
      }
      s.clusters.push_back(std::move(cs));
    }
    return s;
  });
}

}  // namespace meshtrust::ca
