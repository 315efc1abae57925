// Routes on top of cpp-httplib with one wrapper that every request passes through: request id,
// authentication, authorization (before the handler), error mapping to problem+json, metrics,
// and one structured log line. Handlers only read, call the authority and render.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "api/access.h"
#include "ca/tokens.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace meshtrust::ca {
class Authority;
}

namespace meshtrust::api {

class Metrics;
class AuthThrottle;

struct Call {
  const httplib::Request& req;
  httplib::Response& res;
  std::optional<ca::Principal> who;
  std::optional<std::string> cluster;  // the {name} in the path, if the route has one
  std::string request_id;
  // The audit actor: the principal, or "anonymous:<peer address>".
  std::string actor() const;
};

class Router {
 public:
  Router(httplib::Server& server, ca::Authority& authority, Metrics& metrics, AuthThrottle& throttle)
      : server_(server), authority_(authority), metrics_(metrics), throttle_(throttle) {}
  using Handler = std::function<void(Call&)>;
  // `pattern` is a regex; if `cluster_group` > 0 that capture group is the cluster name.
  void add(const std::string& method, const std::string& pattern, const std::string& route, Access access, Handler handler,
           int cluster_group = 0);

 private:
  void handle(const std::string& route, const Access& access, const Handler& handler, int cluster_group,
              const httplib::Request& req, httplib::Response& res);
  httplib::Server& server_;
  ca::Authority& authority_;
  Metrics& metrics_;
  AuthThrottle& throttle_;
};

}  // namespace meshtrust::api
