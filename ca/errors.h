// The authority's domain errors. Front ends map these to exit codes (cli/) or HTTP status
// (api/) in one place each; nothing in ca/ knows about either.
#pragma once

#include <stdexcept>
#include <string>

namespace meshtrust::ca {

enum class ErrorKind {
  InvalidRequest,  // the caller's input is malformed or out of range
  NotFound,        // the named thing does not exist
  AlreadyExists,   // creating something that is there
  PolicyDenied,    // well-formed, but the CA's rules forbid it
  Conflict,        // the state changed under the caller; re-read and decide again
  KeyAccess,       // keys cannot be unlocked (wrong or missing passphrase)
  Storage,         // the database failed
  Internal,        // a bug or an unexpected library failure
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

inline Error invalid(const std::string& m) { return Error(ErrorKind::InvalidRequest, m); }
inline Error not_found(const std::string& m) { return Error(ErrorKind::NotFound, m); }
inline Error already_exists(const std::string& m) { return Error(ErrorKind::AlreadyExists, m); }
inline Error denied(const std::string& m) { return Error(ErrorKind::PolicyDenied, m); }
inline Error conflict(const std::string& m) { return Error(ErrorKind::Conflict, m); }

}  // namespace meshtrust::ca
