#include "cli/render.h"

#include <algorithm>
#include <ctime>

namespace meshtrust::cli {

void Table::print(std::ostream& out) const {
  std::vector<size_t> width;
  for (const auto& row : rows_)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

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

nlohmann::json to_json(const ca::CertificateRecord& r) {
  return {{"serial", r.serial},
          {"kind", ca::to_string(r.kind)},
          {"cluster", r.cluster ? nlohmann::json(*r.cluster) : nlohmann::json(nullptr)},
          {"subject", r.subject},
          {"issuer_serial", r.issuer_serial.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.issuer_serial)},
          {"not_before", date_utc(r.not_before)},
          {"not_after", date_utc(r.not_after)},
          {"status", ca::to_string(r.status)},
          {"profile", r.profile},
          {"key_algorithm", r.key_algorithm},
          {"key_held_by", r.key_id ? "meshtrust" : (r.from_csr ? "cluster" : "recipient")},
          {"fingerprint_sha256", r.fingerprint_sha256}};
}

nlohmann::json to_json(const ca::ClusterRecord& c) {
  return {{"name", c.name},
          {"namespace", c.ns},
          {"secret_name", c.secret_name},
          {"intermediate_serial", c.current_serial ? nlohmann::json(*c.current_serial) : nlohmann::json(nullptr)}};
}

}  // namespace meshtrust::cli
