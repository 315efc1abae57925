// Rendering for people (aligned tables) and for programs (JSON).
#pragma once

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ca/authority.h"
#include "ca/views.h"

namespace meshtrust::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

using ca::date_utc;
using ca::days_left;
using ca::to_json;

}  // namespace meshtrust::cli
