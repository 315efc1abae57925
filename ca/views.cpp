#include "ca/views.h"

#include <ctime>

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

}  // namespace meshtrust::ca
