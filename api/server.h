// `meshtrust serve`: the HTTPS REST front end over the authority. Every handler has one shape:
// read → validate → authorize → call the authority → render; errors are problem+json.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace meshtrust::ca {
class Authority;
class ClusterGateway;
}

namespace meshtrust::api {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8443;
  std::string tls_cert_file, tls_key_file;  // own certificate; empty: issued by the root
  std::vector<std::string> tls_dns{"localhost"};
  std::vector<std::string> tls_ips{"127.0.0.1"};
  int tls_days = 30;  // self-issued certificates are renewed when a third of this is left
  size_t max_connections = 256;
  size_t body_limit = 64 * 1024;
  std::chrono::seconds read_timeout{5}, write_timeout{5}, keep_alive_timeout{5};
  // The reconcile loop: every interval (jittered by up to a fifth either way) every cluster's
  // Secret is compared with its current bundle and pushed where it drifted. 0 turns it off.
  std::chrono::seconds reconcile_interval{300};
  size_t reconcile_concurrency = 32;
};

class Server {
 public:
  // `gateway` reaches the clusters' Kubernetes APIs (push routes and the reconcile loop).
  Server(ca::Authority& authority, ca::ClusterGateway& gateway, ServerConfig config);
  ~Server();
  // Binds, then serves until stop(); throws if it cannot bind or load its TLS identity.
  void run();
  // Stops accepting; in-flight requests finish. Safe from another thread or a signal thread.
  void stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshtrust::api
