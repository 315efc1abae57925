// Exec credential plugin protocol without running a plugin: KUBERNETES_EXEC_INFO, the answer's
// validation, and expiry timestamps.
#include <doctest/doctest.h>

#include "kube/exec_credential.h"

using namespace meshtrust;

namespace {

kube::ExecPlugin plugin(const std::string& version) {
  kube::ExecPlugin p;
  p.command = "/opt/bin/gke-gcloud-auth-plugin";
  p.api_version = version;
  return p;
}

std::string refusal(const std::string& out, const std::string& version = kube::kExecV1) {
  try {
    kube::parse_exec_credential(out, plugin(version));
  } catch (const kube::CredentialError& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("kube.exec: KUBERNETES_EXEC_INFO carries the cluster only when asked to") {
  kube::ClusterAccess a;
  a.server = kube::parse_server_url("https://rancher.example/k8s/clusters/c-1");
  a.tls_server_name = "api.internal";
  a.ca_pem = "PEM";
  auto p = plugin(kube::kExecV1Beta1);
  auto info = nlohmann::json::parse(kube::exec_info(p, a));
  CHECK(info == nlohmann::json{{"kind", "ExecCredential"},
                               {"apiVersion", kube::kExecV1Beta1},
                               {"spec", {{"interactive", false}}}});
  p.provide_cluster_info = true;
  p.cluster_config = {{"k", 1}};
  info = nlohmann::json::parse(kube::exec_info(p, a));
  CHECK(info["spec"]["cluster"] == nlohmann::json{{"server", "https://rancher.example/k8s/clusters/c-1"},
                                                  {"tls-server-name", "api.internal"},
                                                  {"certificate-authority-data", "UEVN"},
                                                  {"config", {{"k", 1}}}});
}

TEST_CASE("kube.exec: an ExecCredential answer is validated, and refusals never quote it") {
  auto c = kube::parse_exec_credential(
      R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",
          "status":{"token":"s3cr3t","expirationTimestamp":"2030-01-01T00:00:00Z"}})",
      plugin(kube::kExecV1));
  CHECK(c.token == "s3cr3t");
  CHECK_FALSE(c.cert);
  REQUIRE(c.expiry);
  CHECK(*c.expiry == kube::WallClock::from_time_t(1893456000));

  const std::string who = "exec plugin 'gke-gcloud-auth-plugin' ";
  CHECK(refusal("s3cr3t") == who + "did not print an ExecCredential JSON object");
  CHECK(refusal(R"({"kind":"Token","status":{"token":"s3cr3t"}})") == who + "printed kind 'Token', expected ExecCredential");
  CHECK(refusal(R"({"kind":"ExecCredential","status":{"token":"s3cr3t"}})") ==
        who + "printed an ExecCredential without apiVersion");
  CHECK(refusal(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"s3cr3t"}})") ==
        who + "answered with apiVersion 'client.authentication.k8s.io/v1beta1', but the kubeconfig asks for "
              "'client.authentication.k8s.io/v1'");
  CHECK(refusal(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"})") ==
        who + "printed an ExecCredential without a status");
  CHECK(refusal(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"s3cr3t"}})") ==
        who + "answered with a client certificate but no key");
  CHECK(refusal(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"s3cr3t","expirationTimestamp":"tomorrow"}})") ==
        who + "answered with an expirationTimestamp that is not an RFC 3339 time");
  CHECK(refusal(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":42}})") ==
        who + "printed an ExecCredential whose status.token is not a string");
}

TEST_CASE("kube.exec: RFC 3339 timestamps with fractions and offsets") {
  auto t = [](const char* s) { return kube::parse_rfc3339(s); };
  CHECK(t("1970-01-01T00:00:00Z") == kube::WallClock::from_time_t(0));
  CHECK(t("2030-01-01T00:00:00.123456Z") == kube::WallClock::from_time_t(1893456000));
  CHECK(t("2030-01-01T02:00:00+02:00") == kube::WallClock::from_time_t(1893456000));
  CHECK(t("2029-12-31T19:00:00-05:00") == kube::WallClock::from_time_t(1893456000));
  CHECK_FALSE(t("2030-01-01 00:00:00Z"));
  CHECK_FALSE(t("2030-01-01T00:00:00"));
  CHECK_FALSE(t("2030-13-01T00:00:00Z"));
  CHECK_FALSE(t("2030-01-01T00:00:00Zjunk"));
}
