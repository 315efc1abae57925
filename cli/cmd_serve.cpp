#include <arpa/inet.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <thread>

#include <spdlog/async.h>
#include <spdlog/spdlog.h>

#include "api/server.h"
#include "ca/errors.h"
#include "ca/names.h"
#include "cli/commands.h"
#include "cli/log_sink.h"

namespace meshtrust::cli {

namespace {

struct ServeArgs {
  std::string listen = "127.0.0.1:8443", tls_cert, tls_key;
  std::vector<std::string> tls_san;
  size_t max_connections = 256;
  int reconcile_interval = 300;
};

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

int run_serve(Context& ctx, const ServeArgs& a) {
  api::ServerConfig config;
  auto colon = a.listen.rfind(':');
  if (colon == std::string::npos) throw ca::invalid("--listen must be HOST:PORT, e.g. 127.0.0.1:8443");
  config.host = a.listen.substr(0, colon);
  if (config.host.size() > 2 && config.host.front() == '[' && config.host.back() == ']') config.host = config.host.substr(1, config.host.size() - 2);
  const std::string port = a.listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535)
    throw ca::invalid("--listen port '" + port.substr(0, 8) + "' is not a port number");
  config.port = std::stoi(port);
  if (a.tls_cert.empty() != a.tls_key.empty()) throw ca::invalid("--tls-cert and --tls-key go together");
  config.tls_cert_file = a.tls_cert;
  config.tls_key_file = a.tls_key;
  if (!a.tls_san.empty()) {
    config.tls_dns.clear();
    config.tls_ips.clear();
    for (const auto& san : a.tls_san) (is_ip(san) ? config.tls_ips : config.tls_dns).push_back(san);
  } else {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0 && ca::is_dns1123_subdomain(host)) config.tls_dns.push_back(host);
  }
  if (a.max_connections < 1 || a.max_connections > 10000) throw ca::invalid("--max-connections must be between 1 and 10000");
  config.max_connections = a.max_connections;
  if (a.reconcile_interval < 0 || a.reconcile_interval > 86400)
    throw ca::invalid("--reconcile-interval must be between 0 (off) and 86400 seconds");
  config.reconcile_interval = std::chrono::seconds(a.reconcile_interval);

  // SIGTERM/SIGINT go to one thread (blocked here, before any thread
  // starts, so every thread inherits the mask) that stops the server; in-flight requests then finish.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  // Structured logs: one JSON object per line on stderr, UTC timestamps.
  // Asynchronous: a request does not wait for its log line's write(2); written in blocks.
  spdlog::init_thread_pool(8192, 1);
  auto sink = std::make_shared<BufferedFdSink>(STDERR_FILENO);
  auto logger = std::make_shared<spdlog::async_logger>("meshtrust", sink, spdlog::thread_pool(),
                                                       spdlog::async_overflow_policy::block);
  logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","event":%v})", spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));


  api::Server server(ctx.authority(), ctx.gateway(), config);
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (!done && (sig == SIGTERM || sig == SIGINT)) {
      spdlog::info(R"({"msg":"shutting down"})");
      server.stop();
    }
  });
  auto release_waiter = [&] {
    done = true;
    pthread_kill(waiter.native_handle(), SIGTERM);  // wakes sigwait; `done` tells it not to act
    waiter.join();
  };
  try {
    server.run();
  } catch (...) {
    release_waiter();
    throw;
  }
  release_waiter();
  spdlog::shutdown();  // flushes the queued log lines
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "Run the HTTPS REST service");
  cmd->add_option("--listen", a->listen, "HOST:PORT to listen on (default 127.0.0.1:8443)");
  cmd->add_option("--tls-cert", a->tls_cert, "Serve this certificate chain (PEM) instead of one issued by the root");
  cmd->add_option("--tls-key", a->tls_key, "The key of --tls-cert (PEM)");
  cmd->add_option("--tls-san", a->tls_san, "Names for the root-issued server certificate (default: localhost, 127.0.0.1, the host name)");
  cmd->add_option("--max-connections", a->max_connections, "Concurrent connections served (default 256)");
  cmd->add_option("--reconcile-interval", a->reconcile_interval,
                  "Seconds between passes that re-push drifted or missing Secrets (default 300, 0 = off)");
  cmd->callback([&action, a] { action = [a](Context& ctx) { return run_serve(ctx, *a); }; });
}

}  // namespace meshtrust::cli
