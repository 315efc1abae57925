// The Kubernetes side of distribution: ca::ClusterGateway over kube::Client. One push makes
// one cluster's `cacerts` Secret hold exactly the bundle (kube::cacerts_secret): it reads the
// Secret, leaves an identical one alone, refuses one meshtrust does not manage unless forced,
// replaces with the resourceVersion it read (re-reading and deciding again after a 409),
// creates the namespace when it is missing and allowed, and reads back what it wrote.
//
// Every request of one push, retries and waits included, shares the push's per-cluster
// deadline (PushOptions::deadline). A cluster's own failure is an outcome (Failed, with one
// sentence naming the cluster, the request and why), never an exception; no message carries a
// token, key or Secret data.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "ca/authority.h"
#include "ca/distribution.h"
#include "kube/client.h"

namespace meshtrust::kube {

// Rounds of read-decide-write one push makes when others keep changing the Secret under it
// (409 Conflict / AlreadyExists) before it gives up.
inline constexpr int kMaxWriteRounds = 5;

struct GatewayOptions {
  // Template for each target's Client: cluster_name is set per target and exec_cache is shared
  // by all (made here if null). Tests inject `sleep` (waits recorded, not slept) and `now`; they
  // are then called from every thread that pushes.
  ClientOptions client;
};

class KubeGateway final : public ca::ClusterGateway {
 public:
  explicit KubeGateway(GatewayOptions options = {});

  // Thread-safe: each call has its own Client; only the exec credential cache is shared.
  ca::PushOutcome push(const ca::PushTarget& target, const ca::Bundle& bundle, const ca::PushOptions& options) override;

  // Rows, always in this order: "reach", "authentication", "namespace <ns>", "get secrets",
  // "create secrets", "update secrets". A row that cannot be checked because an earlier one
  // failed (no connection, credential refused) fails with "not checked: ...".
  std::vector<ca::AccessCheck> check(const ca::PushTarget& target, std::chrono::milliseconds deadline) override;

 private:
  ClientOptions client_options(const ca::PushTarget& target) const;

  GatewayOptions options_;
};

}  // namespace meshtrust::kube
