// One HTTP(S) connection to an API server over cpp-httplib, with TLS set up the way kubectl does
// it: only the kubeconfig's CA is trusted (the system store when it names none), the certificate
// must be for the server's name (or tls-server-name), never matched on its CN, and a client
// certificate when the credential has one. Internal to kube/.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kube/kubeconfig.h"

namespace httplib {
class ClientImpl;
}

namespace meshtrust::kube {

struct HttpReply {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string retry_after;  // the Retry-After header, "" if none
};

class Transport {
 public:
  Transport(const ClusterAccess& access, std::chrono::milliseconds connect_timeout, size_t max_response_bytes,
            std::string user_agent);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Sends one request. `target` is the API path and query (the server's path prefix is added
  // here). Throws TransportError (message without `context`, which the caller adds).
  HttpReply send(const std::string& method, const std::string& target, const std::string& body,
                 const std::string& bearer, const std::shared_ptr<const ClientCertificate>& cert,
                 std::chrono::milliseconds timeout);

  // Closes the connection; the next send opens a fresh one (and re-resolves the host).
  void reset();

 private:
  void build(const std::shared_ptr<const ClientCertificate>& cert);

  const ClusterAccess& access_;
  std::chrono::milliseconds connect_timeout_;
  size_t max_response_bytes_;
  std::string user_agent_;
  std::unique_ptr<httplib::ClientImpl> http_;
  std::shared_ptr<const ClientCertificate> built_cert_;  // the certificate http_ was built with
};

}  // namespace meshtrust::kube
