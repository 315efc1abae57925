// The one place where the authority's domain errors become HTTP status codes and RFC 9457
// problem types. Handlers throw ca::Error; the server renders it through this mapping.
#pragma once

#include <string>

#include "ca/errors.h"

namespace meshtrust::api {

struct ProblemType {
  int status;
  std::string type;   // stable URI-reference clients can match on
  std::string title;  // short, never varies for a type
};

ProblemType problem_for(ca::ErrorKind kind);

}  // namespace meshtrust::api
