// Request bodies: JSON objects only, of the declared content type, with no unknown fields.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace httplib {
struct Request;
}

namespace meshtrust::api {

inline constexpr size_t kBodyLimit = 64 * 1024;

// Parses the body as a JSON object whose keys are all in `allowed`; throws ApiError 415 for a
// content type other than application/json, 400 for malformed JSON, a non-object or an
// unknown field (named in the detail).
nlohmann::json json_body(const httplib::Request& req, std::initializer_list<const char*> allowed);

// Typed field access with one-sentence errors ("field 'days' must be an integer").
std::optional<std::string> opt_string(const nlohmann::json& body, const char* field, size_t max_len = 256);
std::optional<long long> opt_integer(const nlohmann::json& body, const char* field);
// Field 'days': a lifetime of 1 to 36500 days (each operation may allow less).
std::optional<int> opt_days(const nlohmann::json& body);
// A query parameter that must be a whole number (0 to 2^63-1), if present; 400 otherwise.
std::optional<std::uint64_t> uint_param(const httplib::Request& req, const char* name);

std::optional<bool> opt_bool(const nlohmann::json& body, const char* field);
// A list of strings, each at most `max_len`, at most `max_items` of them.
std::optional<std::vector<std::string>> opt_string_list(const nlohmann::json& body, const char* field, size_t max_items,
                                                        size_t max_len);

}  // namespace meshtrust::api
