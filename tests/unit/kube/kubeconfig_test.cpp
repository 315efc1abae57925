// Kubeconfig parsing: every auth form, file references relative to the kubeconfig, server URLs
// with path prefixes, context selection, and every refusal with its sentence, none of which may
// carry a credential.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "kube/kubeconfig.h"
#include "pki/encoding.h"
#include "support/temp_dir.h"
#include "unit/kube/fake_kube_fixture.h"

using namespace meshtrust;
using testing::TestPki;
namespace fs = std::filesystem;

namespace {

const char* kSecretToken = "SECRET-TOKEN-d41d8cd98f00";

std::string indent(const std::string& body, int n) {
  std::string pad(static_cast<size_t>(n), ' '), out;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) out += pad + line + "\n";
  return out;
}

// A kubeconfig with one cluster "c", one user "u" and one context "ctx" (the current one).
std::string kubeconfig(const std::string& cluster, const std::string& user, const std::string& extra = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: ctx\nclusters:\n- name: c\n  cluster:\n" + indent(cluster, 4) +
         "users:\n- name: u\n  user:\n" + indent(user, 4) +
         "contexts:\n- name: ctx\n  context: {cluster: c, user: u, namespace: team}\n" + extra;
}

std::string b64(const std::string& s) { return pki::base64_encode(pki::as_bytes(s)); }

const std::string& ca_pem() { static std::string s = TestPki::instance().read("ca.pem"); return s; }
const std::string& cert_pem() { static std::string s = TestPki::instance().read("alice.pem"); return s; }
const std::string& key_pem() { static std::string s = TestPki::instance().read("alice.key"); return s; }

std::string server_ok() { return "server: https://10.0.0.1:6443\ncertificate-authority-data: " + b64(ca_pem()); }

// The ConfigError sentence for `text`; checks that no credential leaked into it.
std::string refusal(const std::string& text, const fs::path& dir = "/nonexistent", const std::string& context = "") {
  try {
    kube::parse_kubeconfig(text, dir, context);
  } catch (const kube::ConfigError& e) {
    std::string m = e.what();
    CHECK(m.find(kSecretToken) == std::string::npos);
    CHECK(m.find("hunter2") == std::string::npos);
    CHECK(m.find("PRIVATE KEY") == std::string::npos);
    CHECK(m.find('\n') == std::string::npos);
    return m;
  }
  FAIL("expected a ConfigError");
  return "";
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("kube.kubeconfig: a token user and the current context") {
  auto a = kube::parse_kubeconfig(kubeconfig(server_ok(), std::string("token: ") + kSecretToken), "/tmp");
  CHECK(a.context == "ctx");
  CHECK(a.cluster == "c");
  CHECK(a.user == "u");
  CHECK(a.namespace_ == "team");
  CHECK(a.server.scheme == "https");
  CHECK(a.server.host == "10.0.0.1");
  CHECK(a.server.port == 6443);
  CHECK(a.server.path_prefix.empty());
  CHECK(a.ca_pem == ca_pem());
  CHECK_FALSE(a.insecure_skip_tls_verify);
  REQUIRE(std::holds_alternative<kube::BearerToken>(a.auth));
  CHECK(std::get<kube::BearerToken>(a.auth).token == kSecretToken);
  CHECK(kube::describe_auth(a.auth) == "token");
}

TEST_CASE("kube.kubeconfig: a named context picks its own cluster and user") {
  std::string text = kubeconfig(server_ok(), "token: t1",
                                "- name: other\n  context: {cluster: c2, user: u2}\n") +
                     "";
  // Add the second cluster and user by appending list items under the existing keys.
  text = "apiVersion: v1\nkind: Config\ncurrent-context: ctx\n"
         "clusters:\n- name: c\n  cluster: {server: 'https://one.example'}\n"
         "- name: c2\n  cluster: {server: 'https://two.example:8443/base/'}\n"
         "users:\n- name: u\n  user: {token: t1}\n- name: u2\n  user: {token: t2}\n"
         "contexts:\n- name: ctx\n  context: {cluster: c, user: u}\n- name: other\n  context: {cluster: c2, user: u2}\n";
  auto cur = kube::parse_kubeconfig(text, "/");
  CHECK(cur.server.host == "one.example");
  CHECK(cur.server.port == 443);
  CHECK(cur.ca_pem.empty());  // the system trust store
  auto other = kube::parse_kubeconfig(text, "/", "other");
  CHECK(other.context == "other");
  CHECK(other.server.host == "two.example");
  CHECK(other.server.port == 8443);
  CHECK(other.server.path_prefix == "/base");
  CHECK(std::get<kube::BearerToken>(other.auth).token == "t2");
}

TEST_CASE("kube.kubeconfig: server URLs, Rancher path prefixes, IPv6, and http only on loopback") {
  auto r = kube::parse_server_url("https://rancher.example.com/k8s/clusters/c-xyz");
  CHECK(r.host == "rancher.example.com");
  CHECK(r.port == 443);
  CHECK(r.path_prefix == "/k8s/clusters/c-xyz");
  CHECK(r.to_string() == "https://rancher.example.com/k8s/clusters/c-xyz");
  CHECK(r.authority() == "rancher.example.com");

  auto v6 = kube::parse_server_url("https://[fd00::1]:6443/");
  CHECK(v6.host == "fd00::1");
  CHECK(v6.port == 6443);
  CHECK(v6.path_prefix.empty());
  CHECK(v6.authority() == "[fd00::1]:6443");

  auto proxy = kube::parse_server_url("http://127.0.0.1:8001");
  CHECK(proxy.scheme == "http");
  CHECK(proxy.port == 8001);
  CHECK(kube::parse_server_url("http://localhost").port == 80);

  auto refused = [](const std::string& url) {
    try {
      kube::parse_server_url(url);
    } catch (const kube::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refused("http://10.0.0.1:8080") ==
        "server URL 'http://10.0.0.1:8080' uses http; only https is allowed, except for 127.0.0.1, ::1 and localhost");
  CHECK(refused("ftp://x") == "server URL 'ftp://x' must use https");
  CHECK(refused("10.0.0.1:6443") == "server URL has no scheme; expected https://host[:port][/path]");
  CHECK(refused("https://admin:hunter2@10.0.0.1") == "server URL must not carry user credentials (user:password@host)");
  CHECK(refused("https://h:99999") == "server URL 'https://h:99999' has an invalid port");
  CHECK(refused("https://h/x?y=1") == "server URL 'https://h/x?y=1' must not have a query or fragment");
  CHECK(refused("https://") == "server URL 'https://' has no valid host");
}

TEST_CASE("kube.kubeconfig: CA, client certificate and key as files resolve against the kubeconfig's directory") {
  testing::TempDir dir;
  write(dir.path() / "pki" / "ca.crt", ca_pem());
  write(dir.path() / "pki" / "client.crt", cert_pem());
  write(dir.path() / "pki" / "client.key", key_pem());
  write(dir.path() / "config",
        kubeconfig("server: https://kind-control-plane:6443\ncertificate-authority: pki/ca.crt",
                   "client-certificate: pki/client.crt\nclient-key: ./pki/client.key"));
  // Loaded from another working directory: the paths still resolve next to the kubeconfig.
  auto a = kube::load_kubeconfig(dir.path() / "config");
  CHECK(a.ca_pem == ca_pem());
  REQUIRE(std::holds_alternative<kube::ClientCertificate>(a.auth));
  CHECK(std::get<kube::ClientCertificate>(a.auth).cert_pem == cert_pem());
  CHECK(std::get<kube::ClientCertificate>(a.auth).key_pem == key_pem());
  CHECK(kube::describe_auth(a.auth) == "client-certificate");
}

TEST_CASE("kube.kubeconfig: client certificate and key as data, including a traditional RSA key") {
  auto& pki = TestPki::instance();
  auto a = kube::parse_kubeconfig(
      kubeconfig(server_ok(), "client-certificate-data: " + b64(pki.read("rsa-client.pem")) +
                                  "\nclient-key-data: " + b64(pki.read("rsa-client.key"))),
      "/");
  auto cc = std::get<kube::ClientCertificate>(a.auth);
  CHECK(cc.key_pem.find("BEGIN RSA PRIVATE KEY") != std::string::npos);
}

TEST_CASE("kube.kubeconfig: tokenFile is resolved and kept as a path") {
  testing::TempDir dir;
  write(dir.path() / "token", "abc\n");
  auto a = kube::parse_kubeconfig(kubeconfig(server_ok(), "tokenFile: token"), dir.path());
  REQUIRE(std::holds_alternative<kube::TokenFile>(a.auth));
  CHECK(std::get<kube::TokenFile>(a.auth).path == dir.path() / "token");
  // client-go: with both, the file wins.
  auto both = kube::parse_kubeconfig(kubeconfig(server_ok(), "token: x\ntokenFile: token"), dir.path());
  CHECK(std::holds_alternative<kube::TokenFile>(both.auth));
}

TEST_CASE("kube.kubeconfig: exec plugins (EKS, GKE, AKS shapes)") {
  testing::TempDir dir;
  write(dir.path() / "bin" / "plugin.sh", "#!/bin/sh\n");
  std::string cluster = server_ok() +
                        "\nextensions:\n- name: client.authentication.k8s.io/exec\n  extension:\n"
                        "    audience: \"123\"\n    port: 8443\n    verbose: true\n";
  auto eks = kube::parse_kubeconfig(
      kubeconfig(cluster,
                 "exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: aws\n"
                 "  args: [--region, eu-west-1, eks, get-token, --cluster-name, prod]\n"
                 "  env:\n  - name: AWS_PROFILE\n    value: prod\n  provideClusterInfo: true\n"),
      dir.path());
  auto x = std::get<kube::ExecPlugin>(eks.auth);
  CHECK(x.command == "aws");  // a bare name stays a PATH lookup
  CHECK(x.args == std::vector<std::string>{"--region", "eu-west-1", "eks", "get-token", "--cluster-name", "prod"});
  CHECK(x.env == std::vector<std::pair<std::string, std::string>>{{"AWS_PROFILE", "prod"}});
  CHECK(x.api_version == kube::kExecV1Beta1);
  CHECK(x.provide_cluster_info);
  CHECK(x.interactive_mode == "IfAvailable");
  CHECK(x.cluster_config == nlohmann::json{{"audience", "123"}, {"port", 8443}, {"verbose", true}});
  CHECK(kube::describe_auth(eks.auth) == "exec (aws)");

  auto local = kube::parse_kubeconfig(
      kubeconfig(server_ok(),
                 "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: bin/plugin.sh\n"
                 "  interactiveMode: Never\n  installHint: install it\n"),
      dir.path());
  auto y = std::get<kube::ExecPlugin>(local.auth);
  CHECK(y.command == (dir.path() / "bin" / "plugin.sh").string());  // a path is relative to the kubeconfig
  CHECK(y.interactive_mode == "Never");
  CHECK(y.install_hint == "install it");
  CHECK(y.cluster_config.is_null());
}

TEST_CASE("kube.kubeconfig: insecure-skip-tls-verify and tls-server-name") {
  auto a = kube::parse_kubeconfig(
      kubeconfig("server: https://10.0.0.1\ninsecure-skip-tls-verify: true\ntls-server-name: api.internal", "token: t"),
      "/");
  CHECK(a.insecure_skip_tls_verify);
  CHECK(a.tls_server_name == "api.internal");
  CHECK(a.ca_pem.empty());
}

TEST_CASE("kube.kubeconfig: anonymous access behind kubectl proxy") {
  auto a = kube::parse_kubeconfig(
      "apiVersion: v1\nkind: Config\ncurrent-context: p\nclusters:\n- name: p\n  cluster: {server: 'http://127.0.0.1:8001'}\n"
      "contexts:\n- name: p\n  context: {cluster: p}\n",
      "/");
  CHECK(std::holds_alternative<kube::NoAuth>(a.auth));
  CHECK(a.user.empty());
}

TEST_CASE("kube.kubeconfig: every auth form survives to_kubeconfig and back") {
  testing::TempDir dir;
  write(dir.path() / "token", "abc");
  write(dir.path() / "plugin", "#!/bin/sh\n");
  std::vector<std::string> users = {
      std::string("token: ") + kSecretToken,
      "tokenFile: token",
      "client-certificate-data: " + b64(cert_pem()) + "\nclient-key-data: " + b64(key_pem()),
      "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: ./plugin\n  args: ['1', 'x y', 'true']\n"
      "  env: [{name: A, value: '1'}]\n  provideClusterInfo: true\n  installHint: 'see: docs'\n",
  };
  std::string cluster = "server: https://rancher.example.com/k8s/clusters/c-xyz\ncertificate-authority-data: " +
                        b64(ca_pem()) + "\ntls-server-name: api.internal\n"
                        "extensions:\n- name: client.authentication.k8s.io/exec\n  extension: {a: '1', b: 2, c: [x, null]}\n";
  for (const auto& user : users) {
    CAPTURE(user);
    auto a = kube::parse_kubeconfig(kubeconfig(cluster, user), dir.path());
    std::string stored = kube::to_kubeconfig(a);
    auto b = kube::parse_kubeconfig(stored, "/somewhere/else");
    CHECK(a == b);
  }
  auto insecure = kube::parse_kubeconfig(kubeconfig("server: https://h\ninsecure-skip-tls-verify: true", "token: t"), "/");
  CHECK(kube::parse_kubeconfig(kube::to_kubeconfig(insecure), "/") == insecure);
}

TEST_CASE("kube.kubeconfig: refusals name the problem in one sentence") {
  testing::TempDir dir;
  const std::string tok = std::string("token: ") + kSecretToken;

  CHECK(refusal("clusters: [\n  - name: c\n    cluster: {server: x\n" + tok).starts_with("kubeconfig is not valid YAML: line "));
  CHECK(refusal("just a string") == "kubeconfig is not a YAML mapping of clusters, contexts and users");
  CHECK(refusal("") == "kubeconfig is not a YAML mapping of clusters, contexts and users");
  CHECK(refusal(std::string(kube::kMaxKubeconfigBytes + 1, '#')) == "kubeconfig is larger than 1 MiB");
  CHECK(refusal("kind: Pod\n") == "kubeconfig has kind 'Pod', expected Config");

  // Context selection.
  std::string good = kubeconfig(server_ok(), tok);
  CHECK(refusal(good, "/", "prod") == "kubeconfig has no context named 'prod' (contexts: ctx)");
  std::string no_current = good.substr(0, good.find("current-context")) + good.substr(good.find("clusters:"));
  CHECK(refusal(no_current) == "kubeconfig has no current-context and no context was named");
  CHECK(refusal("apiVersion: v1\ncurrent-context: x\nclusters: []\nusers: []\ncontexts:\n- name: x\n  context: {user: u}\n") ==
        "context 'x' names no cluster");
  CHECK(refusal("current-context: x\ncontexts:\n- name: x\n  context: {cluster: gone, user: u}\n") ==
        "context 'x' refers to cluster 'gone', which the kubeconfig does not define");
  CHECK(refusal("current-context: x\nclusters:\n- name: c\n  cluster: {server: 'https://h'}\n"
                "contexts:\n- name: x\n  context: {cluster: c, user: nobody}\n") ==
        "context 'x' refers to user 'nobody', which the kubeconfig does not define");
  CHECK(refusal(good + "- name: ctx\n  context: {cluster: c}\n") == "kubeconfig defines context 'ctx' twice");

  // Cluster.
  CHECK(refusal(kubeconfig("certificate-authority-data: " + b64(ca_pem()), tok)) == "cluster 'c' has no server");
  CHECK(refusal(kubeconfig("server: http://10.1.2.3", tok)) ==
        "cluster 'c': server URL 'http://10.1.2.3' uses http; only https is allowed, except for 127.0.0.1, ::1 and "
        "localhost");
  CHECK(refusal(kubeconfig("server: https://h\ncertificate-authority: ca.pem", tok), dir.path()) ==
        "cluster 'c': certificate-authority file '" + (dir.path() / "ca.pem").string() + "' does not exist");
  CHECK(refusal(kubeconfig("server: https://h\ncertificate-authority-data: '%%%'", tok)) ==
        "cluster 'c': certificate-authority-data is not valid base64");
  CHECK(refusal(kubeconfig("server: https://h\ncertificate-authority-data: " + b64("not a pem"), tok)) ==
        "cluster 'c': the certificate authority holds no PEM certificate");
  CHECK(refusal(kubeconfig(server_ok() + "\ninsecure-skip-tls-verify: true", tok)) ==
        "cluster 'c' sets both insecure-skip-tls-verify and a certificate authority; choose one");
  CHECK(refusal(kubeconfig("server: https://h\ninsecure-skip-tls-verify: maybe", tok)) ==
        "cluster 'c': insecure-skip-tls-verify must be true or false");
  CHECK(refusal(kubeconfig("server: https://h\nproxy-url: http://proxy:3128", tok)) ==
        "cluster 'c' uses proxy-url, which meshtrust does not support yet");

  // Users: unsupported methods.
  CHECK(refusal(kubeconfig(server_ok(), "auth-provider:\n  name: gcp\n  config: {access-token: " + std::string(kSecretToken) + "}")) ==
        "user 'u': auth-provider 'gcp' is not supported; use the exec plugin (gke-gcloud-auth-plugin)");
  CHECK(refusal(kubeconfig(server_ok(), "auth-provider: {name: azure}")) ==
        "user 'u': auth-provider 'azure' is not supported; use the exec plugin (kubelogin)");
  CHECK(refusal(kubeconfig(server_ok(), "auth-provider: {name: oidc}")) ==
        "user 'u': auth-provider 'oidc' is not supported; use an exec plugin (kubelogin or kubectl oidc-login)");
  CHECK(refusal(kubeconfig(server_ok(), "username: admin\npassword: hunter2")) ==
        "user 'u' uses username/password (basic) authentication, which is not supported; use a token, a client "
        "certificate or an exec plugin");
  CHECK(refusal(kubeconfig(server_ok(), tok + "\nas: system:admin")) ==
        "user 'u' sets impersonation (as), which meshtrust does not support");
  CHECK(refusal(kubeconfig(server_ok(), tok + "\nexec: {command: x, apiVersion: client.authentication.k8s.io/v1}")) ==
        "user 'u' sets both token and exec; meshtrust supports one authentication method per user");

  // Users: files and data.
  CHECK(refusal(kubeconfig(server_ok(), "tokenFile: missing-token"), dir.path()) ==
        "user 'u': tokenFile '" + (dir.path() / "missing-token").string() + "' does not exist");
  CHECK(refusal(kubeconfig(server_ok(), "client-certificate: c.crt\nclient-key: c.key"), dir.path()) ==
        "user 'u': client-certificate file '" + (dir.path() / "c.crt").string() + "' does not exist");
  CHECK(refusal(kubeconfig(server_ok(), "client-certificate-data: " + b64(cert_pem()))) ==
        "user 'u' has a client certificate but no client key");
  CHECK(refusal(kubeconfig(server_ok(), "client-key-data: " + b64(key_pem()))) ==
        "user 'u' has a client key but no client certificate");
  CHECK(refusal(kubeconfig(server_ok(), "client-certificate-data: " + b64(cert_pem()) + "\nclient-key-data: '" +
                                            std::string(kSecretToken) + "!'")) ==
        "user 'u': client-key-data is not valid base64");
  CHECK(refusal(kubeconfig(server_ok(), "client-certificate-data: " + b64(cert_pem()) +
                                            "\nclient-key-data: " + b64(TestPki::instance().read("exec.key")))) ==
        "user 'u': the client key does not match the client certificate");
  CHECK(refusal(kubeconfig(server_ok(), "client-certificate-data: " + b64(cert_pem()) + "\nclient-key-data: " +
                                            b64(cert_pem()))) ==
        "user 'u': the client key is not usable: expected a private key PEM block, found 'CERTIFICATE'");

  // Users: exec.
  CHECK(refusal(kubeconfig(server_ok(), "exec: {apiVersion: client.authentication.k8s.io/v1}")) ==
        "user 'u': exec has no command");
  CHECK(refusal(kubeconfig(server_ok(), "exec: {command: aws}")) ==
        "user 'u': exec has no apiVersion (use client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1)");
  CHECK(refusal(kubeconfig(server_ok(), "exec: {command: aws, apiVersion: client.authentication.k8s.io/v1alpha1}")) ==
        "user 'u': exec apiVersion 'client.authentication.k8s.io/v1alpha1' is not supported (use "
        "client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1)");
  CHECK(refusal(kubeconfig(server_ok(), "exec: {command: ./bin/nope, apiVersion: client.authentication.k8s.io/v1}"),
                dir.path()) ==
        "user 'u': exec command '" + (dir.path() / "bin" / "nope").string() + "' does not exist");
  CHECK(refusal(kubeconfig(server_ok(),
                           "exec: {command: x, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Always}")) ==
        "user 'u': exec interactiveMode is Always, which needs a terminal; meshtrust runs plugins without one");
  CHECK(refusal(kubeconfig(server_ok(), "exec: {command: x, apiVersion: client.authentication.k8s.io/v1, args: {a: b}}")) ==
        "user 'u': exec args must be a list of strings");

  // A file that is too large to be a kubeconfig.
  write(dir.path() / "big", std::string(kube::kMaxKubeconfigBytes + 10, 'x'));
  try {
    kube::load_kubeconfig(dir.path() / "big");
    FAIL("accepted");
  } catch (const kube::ConfigError& e) {
    CHECK(std::string(e.what()) == "kubeconfig file '" + (dir.path() / "big").string() + "' is larger than 1 MiB");
  }
  try {
    kube::load_kubeconfig(dir.path() / "absent");
    FAIL("accepted");
  } catch (const kube::ConfigError& e) {
    CHECK(std::string(e.what()) == "kubeconfig file '" + (dir.path() / "absent").string() + "' does not exist");
  }
}

TEST_CASE("kube.kubeconfig: malformed YAML next to a token does not echo it") {
  std::string text = "users:\n- name: u\n  user:\n    token: " + std::string(kSecretToken) + "\n   bad: [\n";
  std::string m = refusal(text);
  CHECK(m.starts_with("kubeconfig is not valid YAML"));
}
