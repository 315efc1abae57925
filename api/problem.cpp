#include "api/problem.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace meshtrust::api {

ProblemType problem_for(ca::ErrorKind kind) {
  switch (kind) {
    case ca::ErrorKind::InvalidRequest: return {400, "/problems/invalid-request", "Invalid request"};
    case ca::ErrorKind::NotFound: return {404, "/problems/not-found", "Not found"};
    case ca::ErrorKind::AlreadyExists: return {409, "/problems/already-exists", "Already exists"};
    case ca::ErrorKind::PolicyDenied: return {422, "/problems/policy-denied", "Denied by policy"};
    case ca::ErrorKind::Conflict: return {409, "/problems/conflict", "Conflict"};
    case ca::ErrorKind::KeyAccess: return {503, "/problems/keys-locked", "Keys unavailable"};
    case ca::ErrorKind::Storage: return {503, "/problems/storage", "Storage unavailable"};
    case ca::ErrorKind::Internal: return {500, "/problems/internal", "Internal error"};
  }
  return {500, "/problems/internal", "Internal error"};
}

ApiError bad_request(const std::string& d) { return ApiError(400, "/problems/invalid-request", "Invalid request", d); }
ApiError unauthorized(const std::string& d) { return ApiError(401, "/problems/unauthenticated", "Authentication required", d); }
ApiError forbidden(const std::string& d) { return ApiError(403, "/problems/forbidden", "Forbidden", d); }
ApiError not_found_error(const std::string& d) { return ApiError(404, "/problems/not-found", "Not found", d); }

void write_problem(httplib::Response& res, int status, const std::string& type, const std::string& title,
                   const std::string& detail) {
  res.status = status;
  nlohmann::json body = {{"type", type}, {"title", title}, {"status", status}, {"detail", detail}};
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/problem+json");
}

}  // namespace meshtrust::api
