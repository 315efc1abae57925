// Rendering for people (aligned tables) and for programs (JSON).
#pragma once

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ca/authority.h"

namespace meshtrust::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string date_utc(std::int64_t unix_seconds);  // "2027-11-22T23:00:00Z"
std::int64_t days_left(std::int64_t not_after, std::int64_t now);

nlohmann::json to_json(const ca::CertificateRecord& r);
nlohmann::json to_json(const ca::ClusterRecord& c);

}  // namespace meshtrust::cli
