// Test fixtures for kube/: a throwaway PKI made with the openssl CLI (a CA, the fake API server's
// certificate, client certificates, and an unrelated CA), and the fake API server
// (tests/fake_kube/fake_kube.py) running as a child process over it. Both are made once per test
// process, on first use, and removed at exit; tests reset the fake's state instead of restarting it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "support/temp_dir.h"

namespace meshtrust::testing {

// Certificates under one temp dir, made with the openssl CLI (EC P-256, so it is quick).
class TestPki {
 public:
  static TestPki& instance();
  const TempDir& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_.file(name); }
  std::string read(const std::string& name) const;  // a file of the dir, e.g. "ca.pem"
  // Files: ca.pem/ca.key (the cluster CA), server.pem/server.key (SANs localhost, api.fake.test,
  // 127.0.0.1), alice.pem/alice.key (CN alice-cert), exec.pem/exec.key (CN exec-cert),
  // other-ca.pem (an unrelated CA), rsa-client.pem/rsa-client.key (traditional "RSA PRIVATE KEY").

 private:
  TestPki();
  void openssl(const std::vector<std::string>& args) const;
  TempDir dir_;
};

// The fake API server. Its clusters (see fake_kube_fixture.cpp for tokens and users):
//   root    at /                       token tok-root, certificate CN alice-cert -> alice
//   c1      at /clusters/c1            tokens tok-c1, tok-exec-good; certificates alice-cert, exec-cert
//   rancher at /k8s/clusters/c-xyz     token tok-rancher
//   locked  at /clusters/locked        token tok-bob: may get but not create/update secrets in istio-system
class FakeKube {
 public:
  static FakeKube& instance();
  ~FakeKube();
  FakeKube(const FakeKube&) = delete;
  FakeKube& operator=(const FakeKube&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& prefix = "") const;  // https://127.0.0.1:PORT<prefix>

  // ClusterAccess for a cluster of the fake, trusting the test CA.
  kube::ClusterAccess access(const std::string& prefix, kube::Auth auth) const;
  kube::ClusterAccess token_access(const std::string& prefix, const std::string& token) const {
    return access(prefix, kube::BearerToken{token});
  }

  // Control endpoints (tests/fake_kube/README.md).
  void reset();  // objects, faults and the request log back to the start
  void fault(const nlohmann::json& spec);
  void seed(const std::string& cluster, const nlohmann::json& object);
  // The logged requests of `cluster`: {method, path, status, user, fault}.
  std::vector<nlohmann::json> requests(const std::string& cluster);
  // How many logged requests of `cluster` have this method and path.
  int count(const std::string& cluster, const std::string& method, const std::string& path);

 private:
  FakeKube();
  nlohmann::json control(const std::string& method, const std::string& path, const nlohmann::json* body);

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
};

// Options that make a test fast: short timeouts, and waits recorded instead of slept.
struct FastOptions {
  std::vector<std::chrono::milliseconds> waits;
  kube::ClientOptions options(const std::string& cluster_name = "test");
};

}  // namespace meshtrust::testing
