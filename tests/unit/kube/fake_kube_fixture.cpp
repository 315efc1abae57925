#include "unit/kube/fake_kube_fixture.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "kube/subprocess.h"

namespace meshtrust::testing {

namespace fs = std::filesystem;

namespace {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string python() {
  if (const char* p = std::getenv("MESHTRUST_PYTHON")) return p;
  // /usr/bin/python3 starts faster than a pyenv shim on PATH.
  return fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

std::string fake_script() {
  if (const char* p = std::getenv("MESHTRUST_FAKE_KUBE")) return p;
  return (fs::path(__FILE__).parent_path() / ".." / ".." / "fake_kube" / "fake_kube.py").lexically_normal().string();
}

const char* kClusters = R"({"clusters": [
  {"name": "root", "prefix": "/", "tokens": {"tok-root": "admin"}, "cert_users": {"alice-cert": "alice"}},
  {"name": "c1", "prefix": "/clusters/c1", "tokens": {"tok-c1": "admin", "tok-exec-good": "exec-user"},
   "cert_users": {"alice-cert": "alice", "exec-cert": "exec-user"}},
  {"name": "rancher", "prefix": "/k8s/clusters/c-xyz", "tokens": {"tok-rancher": "admin"}},
  {"name": "locked", "prefix": "/clusters/locked", "tokens": {"tok-bob": "bob"}, "namespaces": ["istio-system"],
   "deny": [{"user": "bob", "verbs": ["create", "update"], "resources": ["secrets"], "namespaces": ["istio-system"]}]}
]})";

}  // namespace

// ---- TestPki ---------------------------------------------------------------------------------

TestPki& TestPki::instance() {
  static TestPki pki;
  return pki;
}

std::string TestPki::read(const std::string& name) const {
  std::ifstream in(path(name), std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void TestPki::openssl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env{"PATH=/usr/bin:/bin"};
  auto r = kube::run_process(argv, env, std::chrono::seconds(30), 1 << 20);
  if (!r.started || r.exit_status != 0) throw std::runtime_error("openssl " + args.at(0) + " failed: " + r.err);
}

TestPki::TestPki() {
  auto p = [&](const std::string& n) { return path(n); };
  write_file(p("server.ext"), "subjectAltName=DNS:localhost,DNS:api.fake.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  write_file(p("client.ext"), "extendedKeyUsage=clientAuth\n");
  auto ca = [&](const std::string& name, const std::string& cn) {
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", p(name + ".key"),
             "-out", p(name + ".pem"), "-days", "2", "-subj", "/CN=" + cn});
  };
  auto leaf = [&](const std::string& name, const std::string& cn, const std::string& ext, bool rsa = false) {
    if (rsa) {
      openssl({"genrsa", "-traditional", "-out", p(name + ".key"), "2048"});
      openssl({"req", "-new", "-key", p(name + ".key"), "-out", p(name + ".csr"), "-subj", "/CN=" + cn});
    } else {
      openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", p(name + ".key"),
               "-out", p(name + ".csr"), "-subj", "/CN=" + cn});
    }
    openssl({"x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial",
             "-days", "2", "-out", p(name + ".pem"), "-extfile", p(ext)});
  };
  ca("ca", "fake-kube-ca");
  ca("other-ca", "unrelated-ca");
  leaf("server", "fake-kube", "server.ext");
  leaf("alice", "alice-cert", "client.ext");
  leaf("exec", "exec-cert", "client.ext");
  leaf("rsa-client", "alice-cert", "client.ext", /*rsa=*/true);
}

// ---- FakeKube --------------------------------------------------------------------------------

FakeKube& FakeKube::instance() {
  static FakeKube fake;
  return fake;
}

FakeKube::FakeKube() {
  auto& pki = TestPki::instance();
  write_file(pki.path("clusters.json"), kClusters);
  std::vector<std::string> args{python(), fake_script(), "--cert", pki.path("server.pem"), "--key", pki.path("server.key"),
                                "--client-ca", pki.path("ca.pem"), "--config", pki.path("clusters.json")};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // The fake dies with the test process, even if the test crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  stdout_fd_ = fds[0];
  // The first line the fake prints is its port.
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{stdout_fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
      throw std::runtime_error("the fake API server did not print its port");
    char buf[64];
    ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) throw std::runtime_error("the fake API server exited: " + fake_script());
    line.append(buf, static_cast<size_t>(n));
  }
  port_ = std::stoi(line);
}

FakeKube::~FakeKube() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status;
    ::waitpid(pid_, &status, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

std::string FakeKube::url(const std::string& prefix) const { return "https://127.0.0.1:" + std::to_string(port_) + prefix; }

kube::ClusterAccess FakeKube::access(const std::string& prefix, kube::Auth auth) const {
  kube::ClusterAccess a;
  a.context = "test";
  a.cluster = "test";
  a.user = "test";
  a.server = kube::parse_server_url(url(prefix));
  a.ca_pem = TestPki::instance().read("ca.pem");
  a.auth = std::move(auth);
  return a;
}

nlohmann::json FakeKube::control(const std::string& method, const std::string& path, const nlohmann::json* body) {
  // The control endpoints need no credential; kube::Client is a fine HTTPS client for them.
  kube::ClientOptions o;
  o.max_attempts = 1;
  kube::Client c(access("", kube::NoAuth{}), o);
  return c.call(method, path, body, "control");
}

void FakeKube::reset() { control("POST", "/_control/reset", nullptr); }

void FakeKube::fault(const nlohmann::json& spec) { control("POST", "/_control/faults", &spec); }

void FakeKube::seed(const std::string& cluster, const nlohmann::json& object) {
  nlohmann::json body = {{"cluster", cluster}, {"object", object}};
  control("POST", "/_control/objects", &body);
}

std::vector<nlohmann::json> FakeKube::requests(const std::string& cluster) {
  auto j = control("GET", "/_control/requests?cluster=" + cluster, nullptr);
  return j["items"].get<std::vector<nlohmann::json>>();
}

int FakeKube::count(const std::string& cluster, const std::string& method, const std::string& path) {
  int n = 0;
  for (const auto& r : requests(cluster))
    if (r["method"] == method && r["path"] == path) ++n;
  return n;
}

kube::ClientOptions FastOptions::options(const std::string& cluster_name) {
  kube::ClientOptions o;
  o.cluster_name = cluster_name;
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.request_timeout = std::chrono::milliseconds(3000);
  o.deadline = std::chrono::milliseconds(20000);
  o.max_attempts = 4;
  o.base_backoff = std::chrono::milliseconds(100);
  o.max_backoff = std::chrono::milliseconds(2000);
  o.exec_timeout = std::chrono::milliseconds(5000);
  o.sleep = [this](std::chrono::milliseconds d) { waits.push_back(d); };
  return o;
}

}  // namespace meshtrust::testing
