// kube's error types. Each says in one sentence what failed and why; none ever carries a
// token, key, password or exec-plugin output, so callers may print or log what() as it is.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace meshtrust::kube {

// Base of everything kube throws, so a front end can catch the layer's failures in one place.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The kubeconfig cannot be used: malformed, incomplete, or asking for something unsupported.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Credentials could not be obtained: an exec plugin failed, timed out or answered badly, a
// tokenFile cannot be read, a client key does not match its certificate.
class CredentialError : public Error {
 public:
  using Error::Error;
};

// The request never got an HTTP answer: DNS, connect, TLS (including a server certificate that
// does not verify), timeouts, dropped connections.
class TransportError : public Error {
 public:
  TransportError(const std::string& message, bool retryable) : Error(message), retryable_(retryable) {}
  // False for failures that another attempt cannot fix (certificate verification, an oversized
  // answer); true for timeouts and connection failures.
  bool retryable() const { return retryable_; }

 private:
  bool retryable_;
};

// The API server answered with an error status. Fields come from its Status object when it
// sent one (reason "NotFound", "Conflict", ...), else from the HTTP status line.
class ApiError : public Error {
 public:
  struct Details {
    int status = 0;            // HTTP status
    std::string reason;        // Status.reason, or the HTTP reason phrase
    std::string message;       // Status.message (server text, trimmed), may be empty
    std::string verb;          // GET, POST, PUT, ...
    std::string path;          // API path under the server's prefix, without the query
    std::string what;          // short name of the target, "secrets/istio-system/cacerts"
    std::string cluster;       // cluster name given to the Client, may be empty
    std::optional<std::chrono::seconds> retry_after;  // from Retry-After, on 429/503
  };
  explicit ApiError(Details d);
  const Details& details() const { return d_; }
  int status() const { return d_.status; }
  const std::string& reason() const { return d_.reason; }
  const std::string& server_message() const { return d_.message; }

  bool not_found() const { return d_.status == 404; }
  // The object is not there: a Status NotFound. A proxy's bare 404 (a wrong path prefix) is not
  // this, and must not read as "no Secret yet".
  bool object_missing() const { return d_.status == 404 && d_.reason == "NotFound"; }
  bool already_exists() const { return d_.status == 409 && d_.reason == "AlreadyExists"; }
  // A write lost a race (stale resourceVersion): re-read and decide again, never retry blindly.
  bool conflict() const { return d_.status == 409 && d_.reason != "AlreadyExists"; }
  bool unauthorized() const { return d_.status == 401; }
  bool forbidden() const { return d_.status == 403; }

 private:
  Details d_;
};

}  // namespace meshtrust::kube
