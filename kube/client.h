// A Kubernetes API client for the few calls meshtrust makes (kube-api.md): namespaces, Secrets,
// the istio-ca-root-cert ConfigMap, /version and SelfSubjectAccessReview. Every call retries
// what kube-api.md says is transient (429 honouring Retry-After, 5xx, timeouts, connection
// failures) with jittered exponential backoff inside a per-call deadline, and nothing else.
//
// What a retry means for writes: a create retried after a lost answer may meet 409
// AlreadyExists, and a replace may meet 409 Conflict (its own earlier attempt changed the
// resourceVersion). Both are the "re-read and decide again" case the caller handles anyway.
//
// Errors: ApiError (the server answered an error status), TransportError (no usable answer),
// CredentialError (no credential could be had), ConfigError (unusable access settings). None
// carries a credential. A Client serialises its calls; use one per thread for parallelism.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/errors.h"
#include "kube/exec_credential.h"
#include "kube/kubeconfig.h"

namespace meshtrust::kube {

struct ClientOptions {
  std::string cluster_name;  // names the cluster in error messages ("cluster c1: ...")
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{15000};  // one attempt: waiting to send or for an answer
  std::chrono::milliseconds deadline{60000};         // one call: all attempts and waits between them
  int max_attempts = 5;
  std::chrono::milliseconds base_backoff{250};
  std::chrono::milliseconds max_backoff{8000};
  std::chrono::milliseconds exec_timeout{30000};  // an exec credential plugin's run
  size_t max_response_bytes = 16 * 1024 * 1024;   // a larger answer is refused, not buffered
  std::string user_agent = "meshtrust";
  // Waits between attempts. Tests inject one that returns at once; the deadline then counts the
  // waits asked for rather than the time they took.
  std::function<void(std::chrono::milliseconds)> sleep;
  // Wall clock for exec credential expiry (tests move it).
  std::function<WallClock::time_point()> now;
  // Shared by the Clients of a fleet so an exec plugin runs once per credential, not per cluster.
  // Null: this Client keeps its own.
  std::shared_ptr<ExecCredentialCache> exec_cache;
};

// The answer to "may I <verb> <resource> in <namespace>?" (SelfSubjectAccessReview).
struct AccessReview {
  std::string verb;
  std::string resource;
  std::string namespace_;
  bool allowed = false;
  std::string reason;  // the authorizer's explanation, often empty
};

class Client {
 public:
  explicit Client(ClusterAccess access, ClientOptions options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClusterAccess& access() const;
  // True when the server's certificate is not verified (insecure-skip-tls-verify): callers must
  // say so every time they use this cluster.
  bool insecure() const;
  // Attempts made by the last call (1 when it needed no retry; 0 when it sent nothing because
  // the deadline below had passed), for push records and tests.
  int last_attempts() const;

  // Bounds every later call by an absolute deadline as well: a call then gets
  // min(options.deadline, the time left until `deadline`) for all its attempts and waits, so a
  // push of several calls keeps one per-cluster budget. Waits count as asked for, as within a
  // call (with a test's instant sleep, the deadline still means something). A call made after
  // the deadline sends nothing and throws TransportError. nullopt removes the bound.
  void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline);

  nlohmann::json version();  // GET /version: {"major", "minor", "gitVersion", ...}

  std::optional<nlohmann::json> get_namespace(const std::string& name);  // nullopt on 404
  nlohmann::json create_namespace(const std::string& name);              // 409 AlreadyExists throws

  std::optional<nlohmann::json> get_secret(const std::string& ns, const std::string& name);
  // POST; the Secret's metadata.name names it. Returns the stored object (with resourceVersion).
  nlohmann::json create_secret(const std::string& ns, const nlohmann::json& secret);
  // PUT, replacing data, labels and annotations whole. With metadata.resourceVersion set, a
  // concurrent change since that version fails with ApiError::conflict(); without, last write wins.
  nlohmann::json replace_secret(const std::string& ns, const std::string& name, const nlohmann::json& secret);
  // DELETE. With `resource_version`, a DeleteOptions precondition: a Secret changed since that
  // version is not deleted (ApiError::conflict()). False when there was no such Secret (also
  // when a retry finds its own earlier attempt already deleted it).
  bool delete_secret(const std::string& ns, const std::string& name,
                     const std::optional<std::string>& resource_version = std::nullopt);

  std::optional<nlohmann::json> get_configmap(const std::string& ns, const std::string& name);

  // SelfSubjectAccessReview for one verb on a namespaced resource of the core group.
  AccessReview can_i(const std::string& verb, const std::string& resource, const std::string& ns);
  // get, create and update on secrets in `ns`: what a push needs (for `cluster check`).
  std::vector<AccessReview> check_secret_access(const std::string& ns);

  // Any call: `path` is the API path (percent-encoded, with any query), `what` the short name used
  // in errors ("secrets/istio-system/cacerts"). Returns the JSON body of a 2xx answer.
  nlohmann::json call(const std::string& verb, const std::string& path, const nlohmann::json* body,
                      const std::string& what);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes one path segment (a namespace or object name), so that no name can change
// which path is requested.
std::string path_segment(const std::string& s);

}  // namespace meshtrust::kube
