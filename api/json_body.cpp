#include "api/json_body.h"

#include <httplib.h>

#include <charconv>
#include <climits>

#include "api/problem.h"
#include "ca/profile.h"

namespace meshtrust::api {

nlohmann::json json_body(const httplib::Request& req, std::initializer_list<const char*> allowed) {
  // cpp-httplib enforces its payload limit on Content-Length bodies only; a chunked body is
  // checked here.
  if (req.body.size() > kBodyLimit)
    throw ApiError(413, "/problems/payload-too-large", "Payload too large", "the request body is larger than 64 KiB");
  std::string ct = req.get_header_value("Content-Type");
  std::string media = ct.substr(0, ct.find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (auto& ch : media) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));  // media types ignore case
  if (media != "application/json")
    throw ApiError(415, "/problems/unsupported-media-type", "Unsupported media type",
                   "the body must be application/json, not '" + media.substr(0, 64) + "'");
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::parse_error&) {
    throw bad_request("the body is not valid JSON");
  }
  if (!body.is_object()) throw bad_request("the body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) throw bad_request("unknown field '" + key.substr(0, 64) + "'");
  }
  return body;
}

std::optional<std::string> opt_string(const nlohmann::json& body, const char* field, size_t max_len) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw bad_request(std::string("field '") + field + "' must be a string");
  auto s = it->get<std::string>();
  if (s.size() > max_len) throw bad_request(std::string("field '") + field + "' is longer than " + std::to_string(max_len) + " characters");
  return s;
}

std::optional<long long> opt_integer(const nlohmann::json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) throw bad_request(std::string("field '") + field + "' must be an integer");
  return it->get<long long>();
}

std::optional<int> opt_days(const nlohmann::json& body) {
  auto d = opt_integer(body, "days");
  if (!d) return std::nullopt;
  if (*d < 1 || *d > ca::kMaxDays) throw bad_request("field 'days' must be between 1 and " + std::to_string(ca::kMaxDays));
  return static_cast<int>(*d);
}

std::optional<bool> opt_bool(const nlohmann::json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) throw bad_request(std::string("field '") + field + "' must be true or false");
  return it->get<bool>();
}

std::optional<std::vector<std::string>> opt_string_list(const nlohmann::json& body, const char* field, size_t max_items,
                                                        size_t max_len) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  const std::string name = std::string("field '") + field + "'";
  if (!it->is_array()) throw bad_request(name + " must be a list of strings");
  if (it->size() > max_items) throw bad_request(name + " lists more than " + std::to_string(max_items) + " entries");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) throw bad_request(name + " must be a list of strings");
    if (v.get_ref<const std::string&>().size() > max_len)
      throw bad_request(name + " has an entry longer than " + std::to_string(max_len) + " characters");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::optional<std::uint64_t> uint_param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  const std::string& v = req.get_param_value(name);
  std::uint64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || out > static_cast<std::uint64_t>(INT64_MAX))
    throw bad_request(std::string("query parameter '") + name + "' must be an integer from 0 to 2^63-1");
  return out;
}

}  // namespace meshtrust::api
