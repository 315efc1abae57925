// kube/secret.h: the cacerts Secret object for a bundle, and its YAML form read back by an
// independent YAML parser (PyYAML, when python3 has it) as the same object.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "kube/secret.h"
#include "kube/subprocess.h"
#include "pki/encoding.h"
#include "support/temp_dir.h"
#include "unit/pki/pki_test_support.h"

using namespace meshtrust;

namespace {

ca::Bundle make_bundle(bool with_key) {
  testing::TestChain ch;
  ca::Bundle b;
  b.cluster = "c1";
  b.serial = ch.inter.serial().hex();
  b.fingerprint_sha256 = ch.inter.sha256_fingerprint();
  b.ca_cert = ch.inter.pem();
  b.cert_chain = ch.inter.pem() + ch.root.pem();
  b.root_cert = ch.root.pem();
  if (with_key) b.ca_key = ch.inter_key.pkcs8_pem();
  return b;
}

std::set<std::string> keys_of(const nlohmann::json& obj) {
  std::set<std::string> out;
  for (auto it = obj.begin(); it != obj.end(); ++it) out.insert(it.key());
  return out;
}

std::string decoded(const nlohmann::json& v) {
  REQUIRE(v.is_string());
  return std::string(pki::as_chars(pki::base64_decode(v.get<std::string>())));
}

// PyYAML reads `yaml` and prints it back as JSON, with the data values base64-decoded by Python.
// nullopt if python3 with PyYAML is not available here.
std::optional<nlohmann::json> python_yaml_load(const std::string& yaml) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> env{std::string("PATH=") + (path ? path : "/usr/bin:/bin")};
  auto probe = kube::run_process({"python3", "-c", "import yaml"}, env, std::chrono::seconds(30), 1 << 16);
  if (!probe.started || probe.exit_status != 0) return std::nullopt;
  testing::TempDir dir;
  testing::write_file(dir.file("s.yaml"), yaml);
  const char* script = R"(
import base64, json, sys, yaml
doc = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
dec = {k: base64.b64decode(v, validate=True).decode("utf-8") for k, v in (doc.get("data") or {}).items()}
print(json.dumps({"doc": doc, "decoded": dec}))
)";
  auto r = kube::run_process({"python3", "-c", script, dir.file("s.yaml")}, env, std::chrono::seconds(30), 16 << 20);
  REQUIRE(r.started);
  INFO("python3 stderr: " << r.err);
  REQUIRE(r.exit_status == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("kube.secret: cacerts_secret with the CA key carries the whole istiod bundle") {
  auto b = make_bundle(true);
  auto s = kube::cacerts_secret(b, "istio-system", "cacerts");

  CHECK(keys_of(s) == std::set<std::string>{"apiVersion", "kind", "type", "metadata", "data"});
  CHECK(s["apiVersion"] == "v1");
  CHECK(s["kind"] == "Secret");
  CHECK(s["type"] == "Opaque");
  CHECK(s["metadata"]["name"] == "cacerts");
  CHECK(s["metadata"]["namespace"] == "istio-system");
  CHECK(s["metadata"]["labels"] == nlohmann::json{{"app.kubernetes.io/managed-by", "meshtrust"}});
  CHECK(s["metadata"]["annotations"] ==
        nlohmann::json{{"meshtrust.io/intermediate-serial", b.serial}, {"meshtrust.io/intermediate-sha256", b.fingerprint_sha256}});

  const auto& data = s["data"];
  CHECK(keys_of(data) == std::set<std::string>{"ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"});
  CHECK(decoded(data["ca-cert.pem"]) == b.ca_cert);
  CHECK(decoded(data["ca-key.pem"]) == b.ca_key);
  CHECK(decoded(data["cert-chain.pem"]) == b.cert_chain);
  CHECK(decoded(data["root-cert.pem"]) == b.root_cert);
  for (auto it = data.begin(); it != data.end(); ++it) {
    CAPTURE(it.key());
    // Kubernetes wants standard base64 on one line.
    CHECK(it->get<std::string>().find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == std::string::npos);
  }
  // The bundle's own name is not the Secret's.
  auto other = kube::cacerts_secret(b, "ns2", "other-name");
  CHECK(other["metadata"]["name"] == "other-name");
  CHECK(other["metadata"]["namespace"] == "ns2");
}

TEST_CASE("kube.secret: cacerts_secret without a CA key has no ca-key.pem") {
  auto b = make_bundle(false);
  auto s = kube::cacerts_secret(b, "istio-system", "cacerts");
  CHECK(keys_of(s["data"]) == std::set<std::string>{"ca-cert.pem", "cert-chain.pem", "root-cert.pem"});
  CHECK(decoded(s["data"]["ca-cert.pem"]) == b.ca_cert);
  CHECK(decoded(s["data"]["cert-chain.pem"]) == b.cert_chain);
  CHECK(decoded(s["data"]["root-cert.pem"]) == b.root_cert);
  CHECK(s["metadata"]["annotations"]["meshtrust.io/intermediate-serial"] == b.serial);
}

TEST_CASE("kube.secret: to_yaml is the same object to a YAML parser") {
  auto b = make_bundle(true);
  auto s = kube::cacerts_secret(b, "istio-system", "cacerts");
  std::string yaml = kube::to_yaml(s);

  // Always: the key lines, textually.
  CHECK(yaml.find("\"apiVersion\": \"v1\"\n") != std::string::npos);
  CHECK(yaml.find("\"kind\": \"Secret\"\n") != std::string::npos);
  CHECK(yaml.find("\"metadata\":\n") != std::string::npos);
  CHECK(yaml.find("\n  \"name\": \"cacerts\"\n") != std::string::npos);
  CHECK(yaml.find("\n  \"namespace\": \"istio-system\"\n") != std::string::npos);
  CHECK(yaml.find("\n    \"app.kubernetes.io/managed-by\": \"meshtrust\"\n") != std::string::npos);
  CHECK(yaml.find("\n    \"meshtrust.io/intermediate-serial\": \"" + b.serial + "\"\n") != std::string::npos);
  CHECK(yaml.find("\n  \"ca-key.pem\": \"" + s["data"]["ca-key.pem"].get<std::string>() + "\"\n") != std::string::npos);
  CHECK(yaml.find('\t') == std::string::npos);

  // When PyYAML is available: the whole object, and the PEMs decoded by Python's base64.
  auto loaded = python_yaml_load(yaml);
  if (!loaded) {
    MESSAGE("python3 with PyYAML is not available: YAML checked textually only");
    return;
  }
  CHECK((*loaded)["doc"] == s);
  CHECK((*loaded)["decoded"]["ca-cert.pem"] == b.ca_cert);
  CHECK((*loaded)["decoded"]["ca-key.pem"] == b.ca_key);
  CHECK((*loaded)["decoded"]["cert-chain.pem"] == b.cert_chain);
  CHECK((*loaded)["decoded"]["root-cert.pem"] == b.root_cert);
}

TEST_CASE("kube.secret: to_yaml quotes scalars that YAML would otherwise reinterpret") {
  // None of these reach cacerts_secret in practice (names are DNS labels, serials hex), but
  // to_yaml promises safety for any string content.
  nlohmann::json obj = {
      {"yes", "no"},        {"null", "~"},       {"num", "0x10"},         {"oct", "010"},
      {"colon", "a: b"},    {"hash", "x # y"},   {"quote", "'q' \"qq\""}, {"multi", "line1\nline2\r\n"},
      {"lead", " spaced "}, {"dash", "- item"},  {"utf8", "caf\xc3\xa9 \xe2\x9c\x93"},
      {"ctl", std::string("a\x01" "b\x1f")}, {"empty", ""}, {"nested", {{"k: v", "{not: a map}"}}},
  };
  std::string yaml = kube::to_yaml(obj);
  auto loaded = python_yaml_load(yaml);
  if (!loaded) {
    MESSAGE("python3 with PyYAML is not available: skipped");
    return;
  }
  CHECK((*loaded)["doc"] == obj);
}
