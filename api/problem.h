// Errors on the wire: application/problem+json (RFC 9457) with a stable `type`. The one place
// where the authority's domain errors become HTTP status codes.
#pragma once

#include <stdexcept>
#include <string>

#include "ca/errors.h"

namespace httplib {
struct Response;
}

namespace meshtrust::api {

struct ProblemType {
  int status;
  std::string type;   // stable URI-reference clients can match on
  std::string title;  // short, never varies for a type
};

ProblemType problem_for(ca::ErrorKind kind);

// An HTTP-level refusal that is not a domain error (401, 403, 413, 415, malformed JSON, ...).
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, std::string title, const std::string& detail)
      : std::runtime_error(detail), status(status), type(std::move(type)), title(std::move(title)) {}
  int status;
  std::string type, title;
};

ApiError bad_request(const std::string& detail);
ApiError unauthorized(const std::string& detail);
ApiError forbidden(const std::string& detail);
ApiError not_found_error(const std::string& detail);

void write_problem(httplib::Response& res, int status, const std::string& type, const std::string& title,
                   const std::string& detail);

}  // namespace meshtrust::api
