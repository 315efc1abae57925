#include "api/server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/auth_throttle.h"
#include "api/json_body.h"
#include "api/metrics.h"
#include "api/problem.h"
#include "api/router.h"
#include "api/routes.h"
#include "api/tls_identity.h"
#include "ca/authority.h"
#include "ca/errors.h"

namespace meshtrust::api {

namespace {

// cpp-httplib holds a worker thread for the whole life of a keep-alive connection, so the
// pool size is the connection cap. When every worker is busy, enqueue blocks the accept loop:
// further clients wait in the kernel's backlog instead of piling up in memory.
class BoundedPool final : public httplib::TaskQueue {
 public:
  explicit BoundedPool(size_t n) {
    for (size_t i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
  }
  ~BoundedPool() override { shutdown(); }
  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mu_);
    space_.wait(lock, [&] { return busy_ + jobs_.size() < threads_.size() || stopping_; });
    if (stopping_) return;
    jobs_.push_back(std::move(fn));
    ready_.notify_one();
  }
  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    ready_.notify_all();
    space_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();  // in-flight requests finish first
  }

 private:
  void work() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [&] { return !jobs_.empty() || stopping_; });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        ++busy_;
      }
      job();
      std::lock_guard lock(mu_);
      --busy_;
      space_.notify_one();
    }
  }
  std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t busy_ = 0;
  bool stopping_ = false;
};

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ca::invalid(std::string(what) + " file '" + path + "' cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

struct Server::Impl {
  ca::Authority& authority;
  ca::ClusterGateway& gateway;
  ServerConfig config;
  TlsIdentity identity;
  Metrics metrics;
  AuthThrottle throttle;
  std::unique_ptr<httplib::SSLServer> http;
  std::int64_t identity_not_after = 0;  // 0: supplied by the operator, never renewed here
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  int bound_port = 0;

  Impl(ca::Authority& a, ca::ClusterGateway& g, ServerConfig c) : authority(a), gateway(g), config(std::move(c)) {}

  void load_identity() {
    if (!config.tls_cert_file.empty()) {
      identity.set(read_file(config.tls_cert_file, "TLS certificate"), read_file(config.tls_key_file, "TLS key"));
      return;
    }
    auto creds = authority.issue_server_certificate("system:server", config.tls_dns, config.tls_ips, config.tls_days);
    identity.set(creds.cert_chain_pem, creds.key_pem);
    identity_not_after = creds.not_after;
  }

  // Re-issues the self-issued certificate when a third of its life is left.
  void renew_loop() {
    std::unique_lock lock(stop_mu);
    while (!stopping) {
      stop_cv.wait_for(lock, std::chrono::minutes(10));
      if (stopping || identity_not_after == 0) continue;
      auto left = identity_not_after - std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch()).count();
      if (left > config.tls_days * 86400 / 3) continue;
      lock.unlock();
      try {
        load_identity();
        spdlog::info(R"({"msg":"renewed the server certificate"})");
      } catch (const std::exception& e) {
        spdlog::error(nlohmann::json{{"msg", "server certificate renewal failed"}, {"error", e.what()}}.dump());
      }
      lock.lock();
    }
  }

  // Keeps every cluster's Secret in step with its bundle; a pass never overlaps the next.
  void reconcile_loop() {
    if (config.reconcile_interval.count() == 0) return;
    std::mt19937_64 rng{std::random_device{}()};
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    std::unique_lock lock(stop_mu);
    while (!stopping) {
      auto wait = std::chrono::milliseconds(static_cast<std::int64_t>(
          static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(config.reconcile_interval).count()) *
          jitter(rng)));
      stop_cv.wait_for(lock, wait, [this] { return stopping; });
      if (stopping) break;
      lock.unlock();
      try {
        ca::PushOptions o;
        o.concurrency = config.reconcile_concurrency;
        auto run = authority.reconcile(gateway, o);
        std::map<std::string, int> counts;
        nlohmann::json failed = nlohmann::json::array();
        for (const auto& r : run.reports) {
          ++counts[ca::to_string(r.outcome.result)];
          if (r.outcome.result == ca::PushResult::Failed) failed.push_back({{"cluster", r.cluster}, {"error", r.outcome.error}});
        }
        spdlog::info(nlohmann::json{{"msg", "reconciled"}, {"results", counts}, {"failed", failed}}.dump());
      } catch (const std::exception& e) {
        spdlog::error(nlohmann::json{{"msg", "reconcile pass failed"}, {"error", e.what()}}.dump());
      }
      lock.lock();
    }
  }
};

Server::Server(ca::Authority& authority, ca::ClusterGateway& gateway, ServerConfig config)
    : impl_(std::make_unique<Impl>(authority, gateway, std::move(config))) {}
Server::~Server() = default;

int Server::port() const { return impl_->bound_port; }

void Server::run() {
  auto& d = *impl_;
  d.authority.unlock();
  d.load_identity();
  d.http = std::make_unique<httplib::SSLServer>([&d](SSL_CTX& ctx) { return d.identity.configure(ctx); });
  if (!d.http->is_valid()) throw ca::Error(ca::ErrorKind::Internal, "the TLS context could not be created");
  auto& svr = *d.http;
  // cpp-httplib's defaults are compiled in; these are the ones the REST targets depend on
  // (architecture.md, "Facts about the libraries").
  const size_t workers = d.config.max_connections;
  svr.new_task_queue = [workers] { return new BoundedPool(workers); };
  svr.set_tcp_nodelay(true);  // small answers on keep-alive must not wait for Nagle + delayed ACK
  svr.set_keep_alive_max_count(10000);
  svr.set_keep_alive_timeout(d.config.keep_alive_timeout.count());
  svr.set_read_timeout(d.config.read_timeout.count(), 0);
  svr.set_write_timeout(d.config.write_timeout.count(), 0);
  svr.set_payload_max_length(d.config.body_limit);
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413)
      write_problem(res, 413, "/problems/payload-too-large", "Payload too large", "the request body is larger than 64 KiB");
    else if (res.status == 404)
      write_problem(res, 404, "/problems/not-found", "Not found", "no such endpoint: " + req.method + " " + req.path.substr(0, 128));
    else
      write_problem(res, res.status, "/problems/http", "HTTP error", "the request could not be served");
  });

  // cpp-httplib decodes the path before routing, so "/v1/clusters/c1%2Fcacerts" would reach the
  // cacerts route. An encoded slash (or NUL) in the raw target is never a valid name: refuse it.
  svr.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    std::string path = req.target.substr(0, req.target.find('?'));
    for (auto& ch : path) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (path.find("%00") != std::string::npos) {
      write_problem(res, 400, "/problems/invalid-request", "Invalid request", "the path contains an encoded NUL byte");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (path.find("%2f") != std::string::npos || path.find("%5c") != std::string::npos) {
      write_problem(res, 404, "/problems/not-found", "Not found", "no such endpoint (an encoded '/' or '\\' in the path)");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  Router router(svr, d.authority, d.metrics, d.throttle);
  add_health_routes(router, d.authority, d.metrics);
  add_cluster_routes(router, d.authority, d.metrics);
  add_certificate_routes(router, d.authority);
  add_audit_routes(router, d.authority);
  add_token_routes(router, d.authority);
  add_push_routes(router, d.authority, d.gateway);

  d.bound_port = d.config.port;
  if (d.config.port == 0) {
    d.bound_port = svr.bind_to_any_port(d.config.host);
    if (d.bound_port < 0) throw ca::invalid("cannot listen on " + d.config.host);
  } else if (!svr.bind_to_port(d.config.host, d.config.port)) {
    throw ca::invalid("cannot listen on " + d.config.host + ":" + std::to_string(d.config.port) + " (in use, or not an address of this host)");
  }
  spdlog::info(nlohmann::json{{"msg", "listening"}, {"url", "https://" + d.config.host + ":" + std::to_string(d.bound_port)}}.dump());
  std::thread renewer([&d] { d.renew_loop(); });
  std::thread reconciler([&d] { d.reconcile_loop(); });
  svr.listen_after_bind();
  {
    std::lock_guard lock(d.stop_mu);
    d.stopping = true;
  }
  d.stop_cv.notify_all();
  renewer.join();
  reconciler.join();
  spdlog::info(R"({"msg":"stopped"})");
}

void Server::stop() {
  if (impl_->http) impl_->http->stop();
}

}  // namespace meshtrust::api
