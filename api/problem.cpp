#include "api/problem.h"

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

}  // namespace meshtrust::api
