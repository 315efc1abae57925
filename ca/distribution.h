// Distribution: getting each cluster's cacerts bundle into its Kubernetes API server. The
// authority decides what to push, to whom, records every attempt and audits it; the
// Kubernetes side (kube/) does the HTTP through the ClusterGateway interface below, so ca/
// never sees a socket or a YAML parser.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ca/model.h"

namespace meshtrust::ca {

struct Bundle;

// ClusterAccessSpec (how to reach a cluster's API server) is in ca/model.h.

struct PushOptions {
  bool dry_run = false;  // read and compare only; write nothing, record nothing
  bool force = false;    // take over a Secret that meshtrust does not manage
  size_t concurrency = 32;
  std::chrono::milliseconds deadline{60000};  // per cluster: every request and retry of its push
  bool check_roots = false;       // after the push, read istio-ca-root-cert to see if istiod took the roots up
  bool record_unchanged = true;   // false (reconcile loop): only writes and failures are recorded
};

enum class PushResult { Created, Replaced, Unchanged, WouldCreate, WouldReplace, Failed };
std::string to_string(PushResult r);
PushResult push_result_from(const std::string& s);

// Whether istiod has published the bundle's roots in the istio-ca-root-cert ConfigMap.
enum class RootsStatus { NotChecked, TakenUp, Pending };
std::string to_string(RootsStatus s);

// What happened to one cluster's Secret.
struct PushOutcome {
  PushResult result = PushResult::Failed;
  std::string error;                  // one sentence naming what and why, when Failed
  int attempts = 0;                   // HTTP requests sent, retries included
  bool namespace_created = false;
  std::vector<std::string> changes;   // what was (or, in a dry run, would be) changed
  std::vector<std::string> warnings;  // e.g. "TLS verification is off (insecure-skip-tls-verify)"
  RootsStatus roots = RootsStatus::NotChecked;
};

// One cluster as the gateway needs it.
struct PushTarget {
  std::string cluster, ns, secret_name;
  ClusterAccessSpec access;
};

// How long `cluster check` (CLI or REST) gives a cluster to answer everything it asks.
inline constexpr std::chrono::seconds kAccessCheckDeadline{30};

// One line of `cluster check`: reach, authentication, each permission a push needs.
struct AccessCheck {
  std::string what;    // "reach", "authentication", "namespace istio-system", "get secrets", ...
  bool ok = false;
  std::string detail;  // "v1.32.1", or why it failed
};

// The Kubernetes API side of distribution. Implementations must be safe to call from many
// threads at once (one push per thread), must never throw for a cluster's own failure (that
// is an outcome), and must keep credentials out of every message they return.
class ClusterGateway {
 public:
  virtual ~ClusterGateway() = default;
  // Makes the Secret `target.ns/target.secret_name` hold exactly `secret` (the object
  // kube::cacerts_secret builds): creates the namespace if allowed, refuses a Secret meshtrust
  // does not manage unless forced, replaces with the resourceVersion read (re-reading on 409),
  // leaves an identical Secret alone, and reads back what it wrote.
  virtual PushOutcome push(const PushTarget& target, const Bundle& bundle, const PushOptions& options) = 0;
  virtual std::vector<AccessCheck> check(const PushTarget& target, std::chrono::milliseconds deadline) = 0;
};

// A stored push attempt.
struct PushRecord {
  std::int64_t id = 0;
  std::string cluster;
  std::int64_t time_ms = 0;
  std::string actor;
  PushResult result = PushResult::Failed;
  std::optional<std::string> serial;  // the intermediate pushed
  std::string bundle_sha256;          // of the bundle pushed
  std::string error;
  int attempts = 0;
  std::int64_t duration_ms = 0;
};

// One cluster's answer in a push run.
struct PushReport {
  std::string cluster;
  std::optional<std::string> serial;
  PushOutcome outcome;
  std::int64_t duration_ms = 0;
};

// The outcome of one push run: a report per cluster pushed (in the order asked), and the
// clusters of an --all run that cannot be pushed, each with the reason.
struct PushRun {
  std::vector<PushReport> reports;
  std::vector<std::pair<std::string, std::string>> skipped;  // cluster, why
};

using PushProgress = std::function<void(size_t done, size_t failed, size_t total)>;

// Where each cluster's Secret stands, for `status` and /metrics.
enum class DeliveryState {
  Unmanaged,  // no kubeconfig: meshtrust does not push to it
  InSync,     // the last push (or check) wrote or found the current bundle
  Drifted,    // the current bundle has not been pushed yet (new intermediate, new roots, never pushed)
  Failing,    // the last attempt failed
};
std::string to_string(DeliveryState s);

struct ClusterDelivery {
  std::string cluster;
  DeliveryState state = DeliveryState::Unmanaged;
  std::string desired_bundle_sha256;  // the digest of its current bundle ("" without an intermediate)
  std::optional<PushRecord> last_attempt, last_success;
  RootsStatus roots = RootsStatus::NotChecked;  // as last seen by the reconcile loop
};

struct DeliveryReport {
  std::vector<ClusterDelivery> clusters;
  std::map<PushResult, std::uint64_t> pushes;  // outcomes seen by this process since it started
};

}  // namespace meshtrust::ca
