// kube::Client against the fake API server (tests/fake_kube): every auth form, TLS
// verification, path-prefixed servers, Secret semantics, and the retry policy under injected
// faults, with attempts counted in the fake's request log.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

#include "kube/client.h"
#include "kube/secret.h"
#include "support/temp_dir.h"
#include "unit/kube/fake_kube_fixture.h"

using namespace meshtrust;
using namespace std::chrono_literals;
using testing::FakeKube;
using testing::FastOptions;
using testing::TestPki;

namespace {

const std::string kSecretPath = "/api/v1/namespaces/istio-system/secrets/cacerts";

FakeKube& fresh() {
  auto& f = FakeKube::instance();
  f.reset();
  return f;
}

nlohmann::json secret(const std::string& name, const nlohmann::json& data, const std::string& rv = "") {
  nlohmann::json s = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"type", "Opaque"},
                      {"metadata", {{"name", name}, {"labels", {{"app.kubernetes.io/managed-by", "meshtrust"}}}}},
                      {"data", data}};
  if (!rv.empty()) s["metadata"]["resourceVersion"] = rv;
  return s;
}

// The ApiError `f` throws.
kube::ApiError api_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const kube::ApiError& e) {
    return e;
  }
  FAIL("expected an ApiError");
  throw std::logic_error("unreachable");
}

template <class E>
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("unexpected exception: " << e.what());
  }
  FAIL("expected an exception");
  return "";
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// Sets an environment variable for one scope, restoring what was there.
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~EnvVar() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A shell-script exec plugin in its own dir. Each run appends to `count`, saves its
// KUBERNETES_EXEC_INFO and environment, and prints cred-N.json (the N-th run) or cred.json.
struct Plugin {
  testing::TempDir dir;
  Plugin() {
    write(dir.file("plugin.sh"),
          "#!/bin/sh\n"
          "d=\"$PLUGIN_STATE\"\n"
          "n=$(( $(cat \"$d/count\" 2>/dev/null || echo 0) + 1 ))\n"
          "echo \"$n\" > \"$d/count\"\n"
          "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$d/info-$n.json\"\n"
          "env > \"$d/env-$n.txt\"\n"
          "if [ -f \"$d/sleep\" ]; then sleep \"$(cat \"$d/sleep\")\"; fi\n"
          "if [ -f \"$d/fail\" ]; then echo 'plugin: login required, run: cloud auth login' >&2; exit 3; fi\n"
          "if [ -f \"$d/cred-$n.json\" ]; then cat \"$d/cred-$n.json\"; else cat \"$d/cred.json\"; fi\n");
    std::filesystem::permissions(dir.file("plugin.sh"), std::filesystem::perms::owner_all);
  }
  void answer(const nlohmann::json& status, const std::string& version = kube::kExecV1, int run = 0) {
    nlohmann::json j = {{"kind", "ExecCredential"}, {"apiVersion", version}, {"status", status}};
    write(dir.file(run ? "cred-" + std::to_string(run) + ".json" : "cred.json"), j.dump());
  }
  int runs() const {
    std::ifstream in(dir.file("count"));
    int n = 0;
    in >> n;
    return n;
  }
  std::string read(const std::string& name) const {
    std::ifstream in(dir.file(name));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  kube::ExecPlugin config(const std::string& version = kube::kExecV1) const {
    kube::ExecPlugin p;
    p.command = dir.file("plugin.sh");
    p.api_version = version;
    p.env = {{"PLUGIN_STATE", dir.path().string()}};
    return p;
  }
};

}  // namespace

TEST_CASE("kube.client: token auth, /version, namespaces, and a wrong token not retried") {
  auto& fake = fresh();
  FastOptions fast;
  kube::Client c(fake.token_access("/clusters/c1", "tok-c1"), fast.options("c1"));
  CHECK_FALSE(c.insecure());
  auto v = c.version();
  CHECK(v["major"] == "1");
  CHECK(v["minor"] == "32");
  CHECK(c.get_namespace("default").has_value());
  CHECK_FALSE(c.get_namespace("istio-system").has_value());
  auto ns = c.create_namespace("istio-system");
  CHECK(ns["metadata"]["name"] == "istio-system");
  CHECK(c.get_namespace("istio-system").has_value());
  auto again = api_error([&] { c.create_namespace("istio-system"); });
  CHECK(again.already_exists());
  CHECK(c.last_attempts() == 1);

  kube::Client wrong(fake.token_access("/clusters/c1", "tok-wrong-secret"), fast.options("c1"));
  auto e = api_error([&] { wrong.get_namespace("default"); });
  CHECK(e.unauthorized());
  CHECK(wrong.last_attempts() == 1);
  CHECK(std::string(e.what()) == "cluster c1: GET namespaces/default: 401 Unauthorized: Unauthorized");
  CHECK(std::string(e.what()).find("tok-wrong-secret") == std::string::npos);
  CHECK(fast.waits.empty());
}

TEST_CASE("kube.client: client certificate auth at a server on /, EC and RSA keys") {
  auto& fake = fresh();
  auto& pki = TestPki::instance();
  FastOptions fast;
  for (std::string name : {"alice", "rsa-client"}) {
    CAPTURE(name);
    kube::Client c(fake.access("", kube::ClientCertificate{pki.read(name + ".pem"), pki.read(name + ".key")}),
                   fast.options("root"));
    CHECK(c.get_namespace("kube-system").has_value());
  }
  auto log = fake.requests("root");
  REQUIRE(log.size() == 2);
  CHECK(log[0]["user"] == "alice");
  CHECK(log[0]["path"] == "/api/v1/namespaces/kube-system");

  // A certificate the cluster does not map to a user is a 401.
  kube::Client unknown(fake.access("/k8s/clusters/c-xyz", kube::ClientCertificate{pki.read("alice.pem"), pki.read("alice.key")}),
                       fast.options("rancher"));
  CHECK(api_error([&] { unknown.get_namespace("default"); }).unauthorized());
}

TEST_CASE("kube.client: a Rancher-style path prefix is kept in front of every API path") {
  auto& fake = fresh();
  FastOptions fast;
  kube::Client c(fake.token_access("/k8s/clusters/c-xyz", "tok-rancher"), fast.options("rancher"));
  c.create_namespace("istio-system");
  auto created = c.create_secret("istio-system", secret("cacerts", {{"a", "YQ=="}}));
  CHECK(created["metadata"]["namespace"] == "istio-system");
  CHECK(fake.count("rancher", "POST", "/api/v1/namespaces/istio-system/secrets") == 1);
  CHECK(fake.requests("root").empty());
}

TEST_CASE("kube.client: Secrets are created, read, replaced whole, and races are 409 Conflict") {
  auto& fake = fresh();
  FastOptions fast;
  kube::Client c(fake.token_access("/clusters/c1", "tok-c1"), fast.options("c1"));
  c.create_namespace("istio-system");
  CHECK_FALSE(c.get_secret("istio-system", "cacerts").has_value());

  auto created = c.create_secret("istio-system", secret("cacerts", {{"tls.crt", "eA=="}, {"ca-cert.pem", "MQ=="}}));
  std::string rv1 = created["metadata"]["resourceVersion"];
  CHECK(!rv1.empty());
  auto exists = api_error([&] { c.create_secret("istio-system", secret("cacerts", {{"a", "YQ=="}})); });
  CHECK(exists.already_exists());
  CHECK(exists.status() == 409);
  CHECK_FALSE(exists.conflict());

  auto got = c.get_secret("istio-system", "cacerts");
  REQUIRE(got.has_value());
  CHECK((*got)["data"]["ca-cert.pem"] == "MQ==");

  // PUT with the version read replaces data whole: the stale tls.crt goes.
  auto replaced = c.replace_secret("istio-system", "cacerts", secret("cacerts", {{"ca-cert.pem", "Mg=="}}, rv1));
  std::string rv2 = replaced["metadata"]["resourceVersion"];
  CHECK(rv2 != rv1);
  got = c.get_secret("istio-system", "cacerts");
  CHECK((*got)["data"] == nlohmann::json{{"ca-cert.pem", "Mg=="}});

  // A writer holding the old version loses, once, without a retry.
  auto stale = api_error([&] { c.replace_secret("istio-system", "cacerts", secret("cacerts", {{"x", "eA=="}}, rv1)); });
  CHECK(stale.conflict());
  CHECK(c.last_attempts() == 1);
  CHECK(std::string(stale.what()).starts_with("cluster c1: PUT secrets/istio-system/cacerts: 409 Conflict: "
                                              "Operation cannot be fulfilled on secrets \"cacerts\""));

  // Without a resourceVersion, the last write wins.
  c.replace_secret("istio-system", "cacerts", secret("cacerts", {{"y", "eQ=="}}));
  // A PUT to a missing Secret is 404, not a create.
  auto missing = api_error([&] { c.replace_secret("istio-system", "nope", secret("nope", {{"a", "YQ=="}})); });
  CHECK(missing.not_found());
  CHECK(missing.reason() == "NotFound");
  // A Secret's type never changes.
  auto retype = secret("cacerts", {{"a", "YQ=="}});
  retype["type"] = "kubernetes.io/tls";
  CHECK(api_error([&] { c.replace_secret("istio-system", "cacerts", retype); }).status() == 422);
  // Creating in a namespace that does not exist names the namespace.
  auto no_ns = api_error([&] { c.create_secret("absent-ns", secret("s", {})); });
  CHECK(no_ns.not_found());
  CHECK(no_ns.server_message() == "namespaces \"absent-ns\" not found");
  CHECK(fast.waits.empty());
}

TEST_CASE("kube.client: a concurrent writer between read and replace is a 409; a re-read then succeeds") {
  auto& fake = fresh();
  FastOptions fast;
  kube::Client c(fake.token_access("/clusters/c1", "tok-c1"), fast.options("c1"));
  c.create_namespace("istio-system");
  c.create_secret("istio-system", secret("cacerts", {{"a", "YQ=="}}));
  auto read = c.get_secret("istio-system", "cacerts");
  // The fake bumps the Secret's resourceVersion just before the PUT arrives.
  fake.fault({{"cluster", "c1"}, {"method", "PUT"}, {"path", kSecretPath}, {"bump", true}});
  auto body = secret("cacerts", {{"b", "Yg=="}}, (*read)["metadata"]["resourceVersion"]);
  CHECK(api_error([&] { c.replace_secret("istio-system", "cacerts", body); }).conflict());
  auto reread = c.get_secret("istio-system", "cacerts");
  body["metadata"]["resourceVersion"] = (*reread)["metadata"]["resourceVersion"];
  CHECK(c.replace_secret("istio-system", "cacerts", body)["data"] == nlohmann::json{{"b", "Yg=="}});
}

TEST_CASE("kube.client: 500, 503 and 429 are retried with backoff; 429 honours Retry-After") {
  auto& fake = fresh();
  FastOptions fast;
  kube::Client c(fake.token_access("/clusters/c1", "tok-c1"), fast.options("c1"));
  const std::string ns_path = "/api/v1/namespaces/default";

  fake.fault({{"cluster", "c1"}, {"method", "GET"}, {"path", ns_path}, {"status", 500}, {"count", 2}});
  CHECK(c.get_namespace("default").has_value());
  CHECK(c.last_attempts() == 3);
  CHECK(fake.count("c1", "GET", ns_path) == 3);
  REQUIRE(fast.waits.size() == 2);
  CHECK(fast.waits[0] >= 50ms);  // equal jitter: at least half of base (100 ms)
  CHECK(fast.waits[0] <= 100ms);
  CHECK(fast.waits[1] >= 100ms);  // then half of 200 ms
  CHECK(fast.waits[1] <= 200ms);

  fast.waits.clear();
  fake.fault({{"cluster", "c1"}, {"path", ns_path}, {"status", 503}});
  CHECK(c.get_namespace("default").has_value());
  CHECK(c.last_attempts() == 2);

  fast.waits.clear();
  fake.fault({{"cluster", "c1"}, {"path", ns_path}, {"status", 429}, {"retry_after", 3}});
  CHECK(c.get_namespace("default").has_value());
  CHECK(c.last_attempts() == 2);
  REQUIRE(fast.waits.size() == 1);
  CHECK(fast.waits[0] == 3000ms);

  // Out of attempts: the last error, naming the cluster, verb and target.
  fast.waits.clear();
  fake.fault({{"cluster", "c1"}, {"path", ns_path}, {"status", 500}, {"count", 10}, {"message", "etcd is down"}});
  auto e = api_error([&] { c.get_namespace("default"); });
  CHECK(e.status() == 500);
  CHECK(c.last_attempts() == 4);
  CHECK(std::string(e.what()) == "cluster c1: GET namespaces/default: 500 InternalError: etcd is down");
}

TEST_CASE("kube.client: a Retry-After beyond the deadline ends the call at once") {
  auto& fake = fresh();
  FastOptions fast;
  auto o = fast.options("c1");
  o.deadline = 10s;
  kube::Client c(fake.token_access("/clusters/c1", "tok-c1"), o);
  fake.fault({{"cluster", "c1"}, {"status", 429}, {"retry_after", 60}});
  auto e = api_error([&] { c.version(); });
  CHECK(e.status() == 429);
  REQUIRE(e.details().retry_after.has_value());
  CHECK(*e.details().retry_after == 60s);
  CHECK(c.last_attempts() == 1);
  CHECK(fast.waits.empty());

  // Backoff waits count against the deadline even when the test's sleep is instant.
  o = fast.options("c1");
  o.deadline = 1s;
  o.base_backoff = 400ms;
  o.max_attempts = 10;
  kube::Client d(fake.token_access("/clusters/c1", "tok-c1"), o);
  fake.fault({{"cluster", "c1"}, {"status", 503}, {"count", 20}});
  CHECK(api_error([&] { d.version(); }).status() == 503);
  CHECK(d.last_attempts() < 5);
}

TEST_CASE("kube.client: 400, 403, 404, 409 and 422 are answers, not retried") {
  auto& fake = fresh();
  FastOptions fast;
  kube::Client c(fake.token_access("/clusters/c1", "tok-c1"), fast.options("c1"));
  for (int status : {400, 403, 404, 409, 422}) {
    CAPTURE(status);
    fake.reset();
    fake.fault({{"cluster", "c1"}, {"method", "PUT"}, {"status", status}, {"count", 5}});
    auto e = api_error([&] { c.replace_secret("istio-system", "cacerts", secret("cacerts", {})); });
    CHECK(e.status() == status);
    CHECK(c.last_attempts() == 1);
    CHECK(fake.count("c1", "PUT", kSecretPath) == 1);
  }
  CHECK(fast.waits.empty());

  // The real thing, not injected: 422 for data over 1 MiB, 413 for a body over 3 MiB.
  fake.reset();
  c.create_namespace("istio-system");
  std::string big(1400000, 'A');  // base64 of 1,050,000 bytes: more than 1 MiB
  auto too_much = api_error([&] { c.create_secret("istio-system", secret("big", {{"k", big}})); });
  CHECK(too_much.status() == 422);
  CHECK(too_much.server_message() == "Secret \"big\" is invalid: data: Too long: must have at most 1048576 bytes");
  auto too_big = api_error([&] { c.create_secret("istio-system", secret("big", {{"k", std::string(3200000, 'A')}})); });
  CHECK(too_big.status() == 413);
  CHECK(c.last_attempts() == 1);
}

TEST_CASE("kube.client: a dropped connection is retried; a slow answer hits the timeout") {
  auto& fake = fresh();
  FastOptions fast;
  kube::Client c(fake.token_access("/clusters/c1", "tok-c1"), fast.options("c1"));
  fake.fault({{"cluster", "c1"}, {"path", "/version"}, {"drop", true}});
  CHECK(c.version()["minor"] == "32");
  CHECK(c.last_attempts() == 2);
  CHECK(fake.count("c1", "GET", "/version") == 2);

  auto o = fast.options("c1");
  o.request_timeout = 300ms;
  o.max_attempts = 1;
  kube::Client slow(fake.token_access("/clusters/c1", "tok-c1"), o);
  fake.fault({{"cluster", "c1"}, {"path", "/version"}, {"delay", 1.5}});
  auto start = std::chrono::steady_clock::now();
  auto m = message_of<kube::TransportError>([&] { slow.version(); });
  CHECK(std::chrono::steady_clock::now() - start < 1400ms);
  CHECK(m == "cluster c1: GET version: no answer from " + fake.url("/clusters/c1") + " within 0.3 s");

  // With a second attempt allowed, the timeout is retried and the next answer arrives.
  o.max_attempts = 2;
  kube::Client patient(fake.token_access("/clusters/c1", "tok-c1"), o);
  fake.fault({{"cluster", "c1"}, {"path", "/version"}, {"delay", 1.0}});
  CHECK(patient.version()["minor"] == "32");
  CHECK(patient.last_attempts() == 2);
}

TEST_CASE("kube.client: a server certificate from another CA is refused, once") {
  auto& fake = fresh();
  FastOptions fast;
  auto a = fake.token_access("/clusters/c1", "tok-c1");
  a.ca_pem = TestPki::instance().read("other-ca.pem");
  kube::Client c(a, fast.options("c1"));
  try {
    c.version();
    FAIL("connected");
  } catch (const kube::TransportError& e) {
    CHECK_FALSE(e.retryable());
    // OpenSSL's reason depends on whether the server sends its CA along (this one does).
    std::string m = e.what();
    CHECK(m.starts_with("cluster c1: GET version: the server certificate of " + fake.url("/clusters/c1") +
                        " does not verify: "));
    CHECK(m.ends_with(" (is certificate-authority right?)"));
  }
  CHECK(c.last_attempts() == 1);
  CHECK(fast.waits.empty());
}

TEST_CASE("kube.client: tls-server-name is the name verified; DNS names and insecure mode work") {
  auto& fake = fresh();
  FastOptions fast;
  auto a = fake.token_access("/clusters/c1", "tok-c1");  // https://127.0.0.1:PORT
  a.tls_server_name = "api.fake.test";
  CHECK(kube::Client(a, fast.options("c1")).version()["minor"] == "32");

  a.tls_server_name = "wrong.example";  // the certificate also holds 127.0.0.1, but that is not the name asked for
  auto m = message_of<kube::TransportError>([&] { kube::Client(a, fast.options("c1")).version(); });
  CHECK(m.find("does not verify: hostname mismatch (it is not for 'wrong.example')") != std::string::npos);

  auto by_name = fake.token_access("/clusters/c1", "tok-c1");
  by_name.server.host = "localhost";
  CHECK(kube::Client(by_name, fast.options("c1")).version()["minor"] == "32");

  auto insecure = fake.token_access("/clusters/c1", "tok-c1");
  insecure.ca_pem.clear();
  insecure.insecure_skip_tls_verify = true;
  kube::Client ic(insecure, fast.options("c1"));
  CHECK(ic.insecure());
  CHECK(ic.version()["minor"] == "32");
}

TEST_CASE("kube.client: a tokenFile is re-read when it changes") {
  auto& fake = fresh();
  FastOptions fast;
  testing::TempDir dir;
  write(dir.file("token"), "tok-stale\n");
  kube::Client c(fake.access("/clusters/c1", kube::TokenFile{dir.file("token")}), fast.options("c1"));
  CHECK(api_error([&] { c.get_namespace("default"); }).unauthorized());
  write(dir.file("token"), "  tok-c1\n");  // rotated in place (another size)
  CHECK(c.get_namespace("default").has_value());
  std::filesystem::remove(dir.file("token"));
  auto m = message_of<kube::CredentialError>([&] { c.get_namespace("default"); });
  CHECK(m == "cluster c1: GET namespaces/default: tokenFile '" + dir.file("token") + "' cannot be read");
}

TEST_CASE("kube.client: exec plugin tokens are cached until they expire") {
  auto& fake = fresh();
  Plugin plugin;
  plugin.answer({{"token", "tok-exec-good"}, {"expirationTimestamp", "2030-01-01T00:00:00Z"}});
  FastOptions fast;
  auto o = fast.options("c1");
  auto clock = kube::parse_rfc3339("2029-12-31T23:00:00Z").value();
  o.now = [&] { return clock; };
  EnvVar passphrase("MESHTRUST_PASSPHRASE", "do-not-pass-this-on");
  auto x = plugin.config();
  x.provide_cluster_info = true;
  x.cluster_config = {{"audience", "fleet"}};
  x.env.emplace_back("EXTRA_FROM_KUBECONFIG", "yes");
  kube::Client c(fake.access("/clusters/c1", x), o);
  CHECK(c.version()["minor"] == "32");
  CHECK(c.get_namespace("default").has_value());
  CHECK(c.get_namespace("kube-system").has_value());
  CHECK(plugin.runs() == 1);
  CHECK(fake.requests("c1").back()["user"] == "exec-user");

  // What the plugin was told, and what it was not.
  auto info = nlohmann::json::parse(plugin.read("info-1.json"));
  CHECK(info["kind"] == "ExecCredential");
  CHECK(info["apiVersion"] == kube::kExecV1);
  CHECK(info["spec"]["interactive"] == false);
  CHECK(info["spec"]["cluster"]["server"] == fake.url("/clusters/c1"));
  CHECK(info["spec"]["cluster"]["config"] == nlohmann::json{{"audience", "fleet"}});
  CHECK(info["spec"]["cluster"].contains("certificate-authority-data"));
  std::string env = plugin.read("env-1.txt");
  CHECK(env.find("EXTRA_FROM_KUBECONFIG=yes") != std::string::npos);
  CHECK(env.find("do-not-pass-this-on") == std::string::npos);

  // Past the expiry (less a little skew), the plugin runs again.
  clock = kube::parse_rfc3339("2029-12-31T23:59:55Z").value();
  CHECK(c.get_namespace("default").has_value());
  CHECK(plugin.runs() == 2);
}

TEST_CASE("kube.client: a 401 re-runs the exec plugin once") {
  auto& fake = fresh();
  Plugin plugin;
  plugin.answer({{"token", "tok-revoked"}}, kube::kExecV1Beta1, 1);
  plugin.answer({{"token", "tok-exec-good"}}, kube::kExecV1Beta1);
  FastOptions fast;
  kube::Client c(fake.access("/clusters/c1", plugin.config(kube::kExecV1Beta1)), fast.options("c1"));
  CHECK(c.get_namespace("default").has_value());
  CHECK(plugin.runs() == 2);
  CHECK(c.last_attempts() == 2);
  auto log = fake.requests("c1");
  REQUIRE(log.size() == 2);
  CHECK(log[0]["status"] == 401);
  CHECK(log[1]["status"] == 200);
  CHECK(fast.waits.empty());

  // A plugin whose fresh answer is refused too: one re-run only, then the 401 stands.
  Plugin bad;
  bad.answer({{"token", "tok-never-valid"}});
  kube::Client d(fake.access("/clusters/c1", bad.config()), fast.options("c1"));
  auto e = api_error([&] { d.get_namespace("default"); });
  CHECK(e.unauthorized());
  CHECK(bad.runs() == 2);
  CHECK(std::string(e.what()).find("tok-never-valid") == std::string::npos);
}

TEST_CASE("kube.client: exec plugin client certificates") {
  auto& fake = fresh();
  auto& pki = TestPki::instance();
  Plugin plugin;
  plugin.answer({{"clientCertificateData", pki.read("exec.pem")}, {"clientKeyData", pki.read("exec.key")}});
  FastOptions fast;
  kube::Client c(fake.access("/clusters/c1", plugin.config()), fast.options("c1"));
  CHECK(c.get_namespace("default").has_value());
  CHECK(fake.requests("c1").back()["user"] == "exec-user");
}

TEST_CASE("kube.client: exec plugin failures are refused without echoing the credential") {
  auto& fake = fresh();
  FastOptions fast;
  const std::string prefix = "cluster c1: GET version: ";

  Plugin wrong_version;
  wrong_version.answer({{"token", "tok-exec-good"}}, kube::kExecV1Beta1);
  auto m = message_of<kube::CredentialError>(
      [&] { kube::Client(fake.access("/clusters/c1", wrong_version.config()), fast.options("c1")).version(); });
  CHECK(m == prefix + "exec plugin 'plugin.sh' answered with apiVersion 'client.authentication.k8s.io/v1beta1', but "
                      "the kubeconfig asks for 'client.authentication.k8s.io/v1'");
  CHECK(fake.requests("c1").empty());  // nothing was sent

  Plugin failing;
  write(failing.dir.file("fail"), "");
  m = message_of<kube::CredentialError>(
      [&] { kube::Client(fake.access("/clusters/c1", failing.config()), fast.options("c1")).version(); });
  CHECK(m == prefix + "exec plugin 'plugin.sh' failed with exit status 3: plugin: login required, run: cloud auth login");

  Plugin garbage;
  write(garbage.dir.file("cred.json"), "token=tok-exec-good");
  m = message_of<kube::CredentialError>(
      [&] { kube::Client(fake.access("/clusters/c1", garbage.config()), fast.options("c1")).version(); });
  CHECK(m == prefix + "exec plugin 'plugin.sh' did not print an ExecCredential JSON object");
  CHECK(m.find("tok-exec-good") == std::string::npos);

  Plugin empty;
  empty.answer({{"expirationTimestamp", "2030-01-01T00:00:00Z"}});
  m = message_of<kube::CredentialError>(
      [&] { kube::Client(fake.access("/clusters/c1", empty.config()), fast.options("c1")).version(); });
  CHECK(m == prefix + "exec plugin 'plugin.sh' answered with neither a token nor a client certificate");

  Plugin slow;
  slow.answer({{"token", "tok-exec-good"}});
  write(slow.dir.file("sleep"), "5");
  auto o = fast.options("c1");
  o.exec_timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  m = message_of<kube::CredentialError>([&] { kube::Client(fake.access("/clusters/c1", slow.config()), o).version(); });
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK(m == prefix + "exec plugin 'plugin.sh' did not finish within 0.3 s and was stopped");

  kube::ExecPlugin missing;
  missing.command = "meshtrust-no-such-plugin";
  missing.api_version = kube::kExecV1;
  missing.install_hint = "install it from example.com";
  m = message_of<kube::CredentialError>(
      [&] { kube::Client(fake.access("/clusters/c1", missing), fast.options("c1")).version(); });
  CHECK(m == prefix + "exec plugin 'meshtrust-no-such-plugin' could not be started: No such file or directory "
                      "(install it from example.com)");
}

TEST_CASE("kube.client: a shared exec cache runs a fleet's plugin once") {
  auto& fake = fresh();
  Plugin plugin;
  plugin.answer({{"token", "tok-exec-good"}});
  FastOptions fast;
  auto cache = std::make_shared<kube::ExecCredentialCache>();
  for (int i = 0; i < 3; ++i) {
    auto o = fast.options("c1");
    o.exec_cache = cache;
    kube::Client c(fake.access("/clusters/c1", plugin.config()), o);
    CHECK(c.version()["minor"] == "32");
  }
  CHECK(plugin.runs() == 1);
  CHECK(cache->runs() == 1);
}

TEST_CASE("kube.client: SelfSubjectAccessReview and the istio-ca-root-cert ConfigMap") {
  auto& fake = fresh();
  FastOptions fast;
  kube::Client c(fake.token_access("/clusters/locked", "tok-bob"), fast.options("locked"));
  auto reviews = c.check_secret_access("istio-system");
  REQUIRE(reviews.size() == 3);
  CHECK(reviews[0].verb == "get");
  CHECK(reviews[0].allowed);
  CHECK(reviews[1].verb == "create");
  CHECK_FALSE(reviews[1].allowed);
  CHECK(reviews[2].verb == "update");
  CHECK_FALSE(reviews[2].allowed);
  auto denied = api_error([&] { c.create_secret("istio-system", secret("cacerts", {})); });
  CHECK(denied.forbidden());
  CHECK(denied.server_message() == "secrets is forbidden: User \"bob\" cannot create resource \"secrets\" in API group "
                                   "\"\" in the namespace \"istio-system\"");

  CHECK_FALSE(c.get_configmap("istio-system", "istio-ca-root-cert").has_value());
  fake.seed("locked", {{"kind", "ConfigMap"},
                       {"metadata", {{"name", "istio-ca-root-cert"}, {"namespace", "istio-system"}}},
                       {"data", {{"root-cert.pem", "-----BEGIN CERTIFICATE-----\n..."}}}});
  auto cm = c.get_configmap("istio-system", "istio-ca-root-cert");
  REQUIRE(cm.has_value());
  CHECK((*cm)["data"]["root-cert.pem"] == "-----BEGIN CERTIFICATE-----\n...");
}

TEST_CASE("kube.client: names are path segments, never paths") {
  CHECK(kube::path_segment("istio-system") == "istio-system");
  CHECK(kube::path_segment("../../x") == "..%2F..%2Fx");
  CHECK(kube::path_segment("a b?c") == "a%20b%3Fc");
}
