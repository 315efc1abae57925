#include "kube/transport.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>

#include <map>
#include <mutex>

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "pki/certificate.h"
#include "pki/error.h"
#include "pki/handles.h"
#include "pki/key.h"

namespace meshtrust::kube {

namespace {

// The first certificate-verification failure of the handshake running on this thread. OpenSSL
// reports it through a callback; httplib only says "SSL connection failed", and a user needs to
// hear "unable to get local issuer certificate" or "hostname mismatch" to fix a kubeconfig.
thread_local int t_verify_error = X509_V_OK;

int record_verify_error(int ok, X509_STORE_CTX* ctx) {
  if (!ok && t_verify_error == X509_V_OK) t_verify_error = X509_STORE_CTX_get_error(ctx);
  return ok;
}

// SSL_write on a socket the server has closed raises SIGPIPE, which would kill meshtrust. Block
// it on this thread for the duration of a request and swallow any that became pending.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

bool is_ip_literal(const std::string& h) {
  in6_addr a6{};
  in_addr a4{};
  return inet_pton(AF_INET, h.c_str(), &a4) == 1 || inet_pton(AF_INET6, h.c_str(), &a6) == 1;
}

// The server's address as numeric text, for connecting to it while naming another host in TLS.
std::string resolve_numeric(const std::string& host) {
  if (is_ip_literal(host)) return host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr)
    throw TransportError("cannot resolve host '" + host + "'", true);
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(res, freeaddrinfo);
  char buf[NI_MAXHOST];
  if (getnameinfo(res->ai_addr, res->ai_addrlen, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) != 0)
    throw TransportError("cannot resolve host '" + host + "'", true);
  return buf;
}

// The trust store for a CA bundle, built once per distinct bundle and shared (read-only, and
// reference-counted by OpenSSL) by every connection that trusts it: fleets behind one proxy or
// one CA need not parse the same certificates for every cluster. Bounded: when full it starts over.
// Returns a reference of the caller's own (taken under the lock, so clearing cannot free it).
pki::X509StorePtr store_for(const std::string& ca_pem, const std::string& cluster) {
  static std::mutex mu;
  static std::map<std::string, pki::X509StorePtr> stores;
  std::lock_guard lock(mu);
  auto share = [](X509_STORE* st) {
    X509_STORE_up_ref(st);
    return pki::X509StorePtr(st);
  };
  if (auto it = stores.find(ca_pem); it != stores.end()) return share(it->second.get());
  pki::X509StorePtr store(X509_STORE_new());
  if (!store) throw TransportError("cannot allocate a certificate store", false);
  try {
    for (const auto& c : pki::Certificate::all_from_pem(ca_pem))
      if (X509_STORE_add_cert(store.get(), &c.raw()) != 1) throw pki::Error("cannot add certificate");
  } catch (const pki::Error&) {
    pki::clear_openssl_errors();
    throw ConfigError("the certificate authority of cluster '" + cluster + "' is not usable");
  }
  if (stores.size() >= 4096) stores.clear();  // a store in use stays alive: its users hold references
  return share(stores.emplace(ca_pem, std::move(store)).first->second.get());
}

void configure_tls(SSL_CTX* ctx, const ClusterAccess& a, const ClientCertificate* cert) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (a.insecure_skip_tls_verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else {
    if (!a.ca_pem.empty()) {
      // Only the kubeconfig's CA: a cluster CA is private, and trusting public roots as well
      // would let any publicly trusted certificate for the name impersonate the API server.
      SSL_CTX_set_cert_store(ctx, store_for(a.ca_pem, a.cluster).release());  // takes our reference
    } else {
      SSL_CTX_set_default_verify_paths(ctx);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, record_verify_error);
    // OpenSSL checks the name during the handshake. Like Go (and so kubectl), subject CNs are
    // never used as names, and wildcards match whole labels only.
    X509_VERIFY_PARAM* p = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    const std::string& name = a.tls_server_name.empty() ? a.server.host : a.tls_server_name;
    int ok = is_ip_literal(name) ? X509_VERIFY_PARAM_set1_ip_asc(p, name.c_str())
                                 : X509_VERIFY_PARAM_set1_host(p, name.c_str(), name.size());
    if (ok != 1) throw ConfigError("cluster '" + a.cluster + "': cannot verify certificates for '" + name + "'");
  }
  if (cert) {
    try {
      auto chain = pki::Certificate::all_from_pem(cert->cert_pem);
      auto key = pki::PrivateKey::from_pem(cert->key_pem);
      if (chain.empty() || SSL_CTX_use_certificate(ctx, &chain[0].raw()) != 1 ||
          SSL_CTX_use_PrivateKey(ctx, &key.raw()) != 1)
        throw pki::Error("the client certificate or key cannot be loaded");
      for (size_t i = 1; i < chain.size(); ++i)
        if (SSL_CTX_add1_chain_cert(ctx, &chain[i].raw()) != 1) throw pki::Error("the client certificate chain cannot be loaded");
      if (SSL_CTX_check_private_key(ctx) != 1) throw pki::Error("the client key does not match the client certificate");
    } catch (const pki::Error& e) {
      // pki's messages name PEM labels and formats, never key material.
      pki::clear_openssl_errors();
      throw CredentialError(std::string("client certificate: ") + e.what());
    }
  }
}

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

// Idle keep-alive connections by everything that makes one connection usable for another
// cluster: the endpoint, the name TLS verifies, the trust and the client certificate. Clusters
// behind one endpoint (a Rancher-style proxy) then share warm connections instead of paying a
// TLS handshake each; every request still carries its own cluster's credential. Bounded.
class ConnectionPool {
 public:
  static ConnectionPool& instance() {
    static ConnectionPool pool;
    return pool;
  }
  std::unique_ptr<httplib::ClientImpl> take(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = idle_.find(key);
    if (it == idle_.end() || it->second.empty()) return nullptr;
    auto c = std::move(it->second.back());
    it->second.pop_back();
    return c;
  }
  void give(const std::string& key, std::unique_ptr<httplib::ClientImpl> c) {
    std::lock_guard lock(mu_);
    if (idle_.size() >= kMaxEndpoints && !idle_.count(key)) return;  // dropped: closes its connection
    auto& list = idle_[key];
    if (list.size() < kMaxIdlePerEndpoint) list.push_back(std::move(c));
  }

 private:
  // A fleet of distinct API servers gains nothing here; keep only a few endpoints warm.
  static constexpr size_t kMaxEndpoints = 64, kMaxIdlePerEndpoint = 32;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<httplib::ClientImpl>>> idle_;
};

std::string pool_key(const ClusterAccess& a, const ClientCertificate* cert) {
  const auto& s = a.server;
  return s.scheme + "\n" + s.host + "\n" + std::to_string(s.port) + "\n" + a.tls_server_name + "\n" +
         (a.insecure_skip_tls_verify ? "insecure" : "verify") + "\n" + a.ca_pem + "\n" + (cert ? cert->cert_pem : "");
}

}  // namespace

Transport::Transport(const ClusterAccess& access, std::chrono::milliseconds connect_timeout, size_t max_response_bytes,
                     std::string user_agent)
    : access_(access),
      connect_timeout_(connect_timeout),
      max_response_bytes_(max_response_bytes),
      user_agent_(std::move(user_agent)) {}

Transport::~Transport() {
  // A connection that did not fail goes back for the next cluster behind the same endpoint.
  if (http_) ConnectionPool::instance().give(pool_key(access_, built_cert_.get()), std::move(http_));
}

void Transport::reset() {
  http_.reset();
  built_cert_.reset();
}

void Transport::build(const std::shared_ptr<const ClientCertificate>& cert) {
  if (http_) ConnectionPool::instance().give(pool_key(access_, built_cert_.get()), std::move(http_));
  if ((http_ = ConnectionPool::instance().take(pool_key(access_, cert.get())))) {
    built_cert_ = cert;
    return;
  }
  const ServerUrl& s = access_.server;
  if (s.scheme == "https") {
    std::unique_ptr<httplib::SSLClient> c;
    const std::string& tls_name = access_.tls_server_name;
    if (!tls_name.empty() && tls_name != s.host) {
      // httplib sends SNI for, and connects to, its host; map that name to the server's
      // address so both SNI and verification use tls-server-name, as kubectl does.
      c = std::make_unique<httplib::SSLClient>(tls_name, s.port);
      c->set_hostname_addr_map({{tls_name, resolve_numeric(s.host)}});
    } else {
      c = std::make_unique<httplib::SSLClient>(s.host, s.port);
    }
    if (!c->is_valid()) throw TransportError("cannot set up TLS", false);
    // httplib's own check would fall back to the CN; OpenSSL verifies instead (configure_tls).
    c->enable_server_certificate_verification(false);
    configure_tls(c->ssl_context(), access_, cert.get());
    http_ = std::move(c);
  } else {
    http_ = std::make_unique<httplib::ClientImpl>(s.host, s.port);
  }
  http_->set_connection_timeout(std::chrono::duration_cast<std::chrono::microseconds>(connect_timeout_));
  http_->set_keep_alive(true);
  http_->set_tcp_nodelay(true);  // small requests: do not wait for ACKs of the previous write
  http_->set_url_encode(false);  // paths are percent-encoded by the caller
  http_->set_follow_location(false);
  built_cert_ = cert;
}

HttpReply Transport::send(const std::string& method, const std::string& target, const std::string& body,
                          const std::string& bearer, const std::shared_ptr<const ClientCertificate>& cert,
                          std::chrono::milliseconds timeout) {
  bool same_cert = cert == built_cert_ || (cert && built_cert_ && *cert == *built_cert_);
  if (!http_ || !same_cert) build(cert);

  httplib::Request req;
  req.method = method;
  req.path = access_.server.path_prefix + target;
  req.set_header("Host", access_.server.authority());
  req.set_header("Accept", "application/json");
  req.set_header("User-Agent", user_agent_);
  if (!bearer.empty()) req.set_header("Authorization", "Bearer " + bearer);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    req.set_header("Content-Type", "application/json");
  req.body = body;
  std::string received;
  bool too_large = false;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (received.size() + n > max_response_bytes_) {
      too_large = true;
      return false;
    }
    received.append(data, n);
    return true;
  };
  http_->set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  http_->set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));

  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  t_verify_error = X509_V_OK;
  auto start = std::chrono::steady_clock::now();
  bool ok;
  {
    SigpipeGuard guard;
    ok = http_->send(req, res, err);
  }
  // httplib leaves OpenSSL's per-thread error queue as it is; a stale entry there would be
  // blamed on the next OpenSSL call this thread makes.
  pki::clear_openssl_errors();
  if (ok) return {res.status, std::move(received), res.get_header_value("Content-Type"),
                  res.get_header_value("Retry-After")};

  int verify_error = t_verify_error;
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  reset();  // a fresh connection (and DNS lookup) for the next attempt
  const std::string url = access_.server.to_string();
  switch (err) {
    case httplib::Error::Connection:
    case httplib::Error::BindIPAddress:
      throw TransportError("cannot connect to " + url, true);
    case httplib::Error::ConnectionTimeout:
      throw TransportError("connecting to " + url + " timed out after " + seconds_text(connect_timeout_), true);
    case httplib::Error::Read:
      if (waited + std::chrono::milliseconds(50) >= timeout)
        throw TransportError("no answer from " + url + " within " + seconds_text(timeout), true);
      throw TransportError("the connection to " + url + " closed before an answer", true);
    case httplib::Error::Write:
      throw TransportError("the connection to " + url + " closed while sending the request", true);
    case httplib::Error::SSLConnection:
      if (verify_error != X509_V_OK) {
        std::string m = "the server certificate of " + url + " does not verify: " +
                        X509_verify_cert_error_string(verify_error);
        if (verify_error == X509_V_ERR_HOSTNAME_MISMATCH || verify_error == X509_V_ERR_IP_ADDRESS_MISMATCH)
          m += " (it is not for '" + (access_.tls_server_name.empty() ? access_.server.host : access_.tls_server_name) +
               "')";
        else if (verify_error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                 verify_error == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
                 verify_error == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
          m += " (is certificate-authority right?)";
        throw TransportError(m, false);
      }
      throw TransportError("the TLS handshake with " + url + " failed", true);
    case httplib::Error::Canceled:
      if (too_large)
        throw TransportError("the answer from " + url + " is larger than " +
                                 std::to_string(max_response_bytes_ / (1024 * 1024)) + " MiB",
                             false);
      throw TransportError("the request to " + url + " was canceled", true);
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
      throw TransportError("TLS setup for " + url + " failed", false);
    case httplib::Error::Compression:
      throw TransportError("the answer from " + url + " cannot be decompressed", false);
    default:
      throw TransportError("the request to " + url + " failed (" + httplib::to_string(err) + ")", true);
  }
}

}  // namespace meshtrust::kube
