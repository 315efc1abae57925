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
  return {{"serial", r.serial},
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
}

nlohmann::json to_json(const ClusterRecord& c) {
  return {{"name", c.name}, {"namespace", c.ns}, {"secret_name", c.secret_name}, {"intermediate_serial", opt(c.current_serial)}};
}

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
    nlohmann::json j = {{"name", c.cluster.name}, {"serial", nullptr}, {"not_after", nullptr}, {"days_left", nullptr}};
    if (c.intermediate) {
      j["serial"] = c.intermediate->serial;
      j["not_after"] = date_utc(c.intermediate->not_after);
      j["days_left"] = days_left(c.intermediate->not_after, s.now);
    }
    clusters.push_back(j);
  }
  return {{"root",
           {{"serial", s.root.serial},
            {"subject", s.root.subject},
            {"key_algorithm", s.root.key_algorithm},
            {"not_after", date_utc(s.root.not_after)},
            {"days_left", days_left(s.root.not_after, s.now)}}},
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
    return r;
  });
}

ClusterRecord cluster_from_json(const nlohmann::json& j) {
  return reading("cluster", [&] {
    return ClusterRecord{j.at("name"), j.at("namespace"), j.at("secret_name"), 0, opt_str(j, "intermediate_serial")};
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

}  // namespace meshtrust::ca
