#include "api/router.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <thread>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include "api/auth_throttle.h"
#include "api/metrics.h"
#include "api/problem.h"
#include "ca/authority.h"
#include "ca/names.h"
#include "pki/crypto.h"
#include "pki/error.h"

namespace meshtrust::api {

std::string Call::actor() const { return who ? who->actor() : "anonymous:" + req.remote_addr; }

void Router::add(const std::string& method, const std::string& pattern, const std::string& route, Access access,
                 Handler handler, int cluster_group) {
  auto fn = [this, route, access, handler, cluster_group](const httplib::Request& req, httplib::Response& res) {
    handle(route, access, handler, cluster_group, req, res);
  };
  if (method == "GET") server_.Get(pattern, fn);
  else if (method == "POST") server_.Post(pattern, fn);
  else if (method == "DELETE") server_.Delete(pattern, fn);
  else if (method == "PUT") server_.Put(pattern, fn);
}

namespace {

// The bearer token, if the request carries an Authorization header at all.
std::optional<std::string> bearer(const httplib::Request& req, bool& malformed) {
  malformed = false;
  if (!req.has_header("Authorization")) return std::nullopt;
  std::string h = req.get_header_value("Authorization");
  static constexpr std::string_view kPrefix = "Bearer ";
  if (h.size() <= kPrefix.size() || h.compare(0, kPrefix.size(), kPrefix) != 0) {
    malformed = true;
    return std::nullopt;
  }
  return h.substr(kPrefix.size());
}

// A JSON string literal for `s` (quotes included).
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      static const char* hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// The client certificate the peer presented in the TLS handshake (DER), if any.
std::optional<pki::Bytes> client_certificate(const httplib::Request& req) {
  if (!req.ssl) return std::nullopt;
  X509* peer = SSL_get0_peer_certificate(req.ssl);
  if (!peer) return std::nullopt;
  unsigned char* der = nullptr;
  int n = i2d_X509(peer, &der);
  if (n <= 0) return std::nullopt;
  pki::Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

}  // namespace

void Router::handle(const std::string& route, const Access& access, const Handler& handler, int cluster_group,
                    const httplib::Request& req, httplib::Response& res) {
  const auto start = std::chrono::steady_clock::now();
  Call call{req, res, std::nullopt, std::nullopt, pki::to_hex(pki::random_bytes(8))};
  res.set_header("X-Request-Id", call.request_id);
  res.set_header("Cache-Control", "no-store");
  std::string failure;  // why authentication or authorization failed, for the audit event
  try {
    if (cluster_group > 0 && req.matches.size() > static_cast<size_t>(cluster_group))
      call.cluster = req.matches[cluster_group].str();
    bool malformed = false;
    auto token = bearer(req, malformed);
    if (malformed) {
      failure = "malformed Authorization header";
      throw unauthorized("the Authorization header must be 'Bearer <token>'");
    }
    auto certificate = client_certificate(req);
    if (token && certificate) {
      failure = "both a client certificate and a bearer token";
      throw unauthorized("the request carries both a client certificate and a bearer token; send one of them");
    }
    if (token) {
      call.who = authority_.authenticate(*token);
      if (!call.who) {
        failure = "unknown, revoked or expired token";
        throw unauthorized("the bearer token is not valid (unknown, revoked or expired)");
      }
    } else if (certificate) {
      auto login = authority_.authenticate_certificate(*certificate);
      if (!login.who) {
        failure = login.refusal;  // the specific reason goes to the audit log, not to the peer
        throw unauthorized("the client certificate does not authenticate a principal (not one meshtrust issued for one, "
                           "revoked, expired, or under a root no longer trusted)");
      }
      call.who = login.who;
    }
    switch (access.decide(call.who, call.cluster)) {
      case Decision::Allow: break;
      case Decision::Unauthenticated:
        failure = "no token";
        throw unauthorized("this endpoint needs a bearer token or a client certificate");
      case Decision::Forbidden:
        failure = "role " + ca::to_string(call.who->role) + " may not call " + route;
        throw forbidden("role '" + ca::to_string(call.who->role) + "' may not " + req.method + " " + req.path);
      case Decision::Hidden:
        // Exactly what an unregistered cluster answers: no way to tell the two apart.
        failure = "cluster principal asked about another cluster";
        throw ca::not_found(ca::unregistered_cluster_message(*call.cluster));
    }
    res.status = 200;  // handlers set another status when they mean one
    handler(call);
    if (token || certificate) throttle_.on_success(req.remote_addr);
  } catch (const ApiError& e) {
    write_problem(res, e.status, e.type, e.title, e.what());
  } catch (const ca::Error& e) {
    auto p = problem_for(e.kind());
    write_problem(res, p.status, p.type, p.title, e.what());
  } catch (const pki::Error& e) {
    write_problem(res, 400, "/problems/invalid-request", "Invalid request", e.what());
  } catch (const std::exception& e) {
    spdlog::error(nlohmann::json{{"msg", "unhandled error"}, {"request_id", call.request_id}, {"error", e.what()}}.dump());
    write_problem(res, 500, "/problems/internal", "Internal error", "internal error (request " + call.request_id + ")");
  }
  if (res.status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"meshtrust\"");
  if (!failure.empty()) {
    // Every authentication or authorization failure is audited, then answered slowly if the
    // peer keeps failing.
    try {
      authority_.record({call.actor(), res.status == 401 ? "auth.failure" : "authz.failure", call.cluster, std::nullopt, false,
                         {{"route", route}, {"method", req.method}, {"reason", failure}, {"peer", req.remote_addr}}});
    } catch (const std::exception& e) {
      spdlog::error(nlohmann::json{{"msg", "could not audit a refused request"}, {"error", e.what()}}.dump());
    }
    if (res.status == 401) std::this_thread::sleep_for(throttle_.on_failure(req.remote_addr));
  }
  auto latency = std::chrono::steady_clock::now() - start;
  metrics_.observe(route, res.status, latency);
  // One line per request, on the hot path: formatted directly rather than through a JSON tree.
  // Route and request id are ours; the rest is escaped.
  spdlog::info(R"({{"msg":"request","request_id":"{}","principal":{},"peer":{},"method":{},"route":"{}","status":{},"latency_ms":{:.3f}}})",
               call.request_id, json_string(call.who ? call.who->actor() : "anonymous"), json_string(req.remote_addr),
               json_string(req.method), route, res.status, std::chrono::duration<double, std::milli>(latency).count());
}

}  // namespace meshtrust::api
