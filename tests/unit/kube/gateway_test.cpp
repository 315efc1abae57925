// kube::KubeGateway against the fake API server (tests/fake_kube): create, replace, leave alone,
// refuse, race, retry and give up, with every request counted in the fake's log and every stored
// Secret read back through the fake's control API (which logs nothing). Kubeconfigs go through
// to_kubeconfig, as `cluster add` stores them.
#include <doctest/doctest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "kube/gateway.h"
#include "kube/secret.h"
#include "pki/crypto.h"
#include "support/temp_dir.h"
#include "unit/kube/fake_kube_fixture.h"
#include "unit/pki/pki_test_support.h"

using namespace meshtrust;
using namespace std::chrono_literals;
using ca::PushResult;
using ca::RootsStatus;
using testing::FakeKube;
using testing::FastOptions;
using testing::TestPki;

namespace {

const std::string kNs = "istio-system";
const std::string kSecretPath = "/api/v1/namespaces/istio-system/secrets/cacerts";
const std::string kSecretsPath = "/api/v1/namespaces/istio-system/secrets";
const std::string kNsPath = "/api/v1/namespaces/istio-system";
const std::string kRootCmPath = "/api/v1/namespaces/istio-system/configmaps/istio-ca-root-cert";
const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

std::string name(PushResult r) {
  switch (r) {
    case PushResult::Created: return "Created";
    case PushResult::Replaced: return "Replaced";
    case PushResult::Unchanged: return "Unchanged";
    case PushResult::WouldCreate: return "WouldCreate";
    case PushResult::WouldReplace: return "WouldReplace";
    case PushResult::Failed: return "Failed";
  }
  return "?";
}

std::string name(RootsStatus r) {
  switch (r) {
    case RootsStatus::NotChecked: return "NotChecked";
    case RootsStatus::TakenUp: return "TakenUp";
    case RootsStatus::Pending: return "Pending";
  }
  return "?";
}

using Strings = std::vector<std::string>;

// ---- bundles: real certificates, one root, an intermediate per bundle ------------------------

struct TestCa {
  pki::PrivateKey root_key = pki::PrivateKey::generate(pki::KeySpec::parse("ecdsa-p256"));
  pki::Certificate root = pki::sign_certificate(
      {pki::Serial::random128(), testing::dn({{"O", "Istio"}, {"CN", "Root CA"}}), testing::utc(2026, 1, 1),
       testing::utc(2036, 1, 1), testing::root_extensions()},
      root_key.public_key(), std::nullopt, root_key);

  ca::Bundle bundle(const std::string& cluster) const {
    auto key = pki::PrivateKey::generate(pki::KeySpec::parse("ecdsa-p256"));
    auto inter = pki::sign_certificate(
        {pki::Serial::random128(), testing::dn({{"O", "Istio"}, {"CN", "Intermediate CA"}, {"L", cluster}}),
         testing::utc(2026, 5, 1), testing::utc(2027, 5, 1), testing::intermediate_extensions(cluster)},
        key.public_key(), root, root_key);
    ca::Bundle b;
    b.cluster = cluster;
    b.serial = inter.serial().hex();
    b.fingerprint_sha256 = inter.sha256_fingerprint();
    b.ca_cert = inter.pem();
    b.ca_key = key.pkcs8_pem();
    b.cert_chain = inter.pem() + root.pem();
    b.root_cert = root.pem();
    auto d = pki::sha256({pki::as_bytes(b.ca_cert), pki::as_bytes(b.ca_key), pki::as_bytes(b.cert_chain),
                          pki::as_bytes(b.root_cert)});
    b.bundle_sha256 = pki::to_hex(d);
    return b;
  }
};

const TestCa& test_ca() {
  static const TestCa ca;
  return ca;
}
// Two bundles of cluster c1 under the same root: a rotation of the intermediate.
const ca::Bundle& bundle_a() {
  static const ca::Bundle b = test_ca().bundle("c1");
  return b;
}
const ca::Bundle& bundle_b() {
  static const ca::Bundle b = test_ca().bundle("c1");
  return b;
}

// An unrelated root (another mesh), for the roots check.
const pki::Certificate& other_root() {
  static const TestCa other;
  return other.root;
}

// ---- the fake: control API, stored objects, request log ---------------------------------------

FakeKube& fresh() {
  auto& f = FakeKube::instance();
  f.reset();
  return f;
}

nlohmann::json control(const std::string& method, const std::string& path, const nlohmann::json* body = nullptr) {
  kube::ClientOptions o;
  o.max_attempts = 1;
  kube::Client c(FakeKube::instance().access("", kube::NoAuth{}), o);
  return c.call(method, path, body, "control");
}

void clear_log() { control("DELETE", "/_control/requests"); }

// The Secret as the fake stores it, read without a request that would enter the log.
std::optional<nlohmann::json> stored(const std::string& cluster, const std::string& ns = kNs,
                                     const std::string& secret = "cacerts") {
  auto all = control("GET", "/_control/objects?cluster=" + cluster);
  for (const auto& o : all["items"])
    if (o["kind"] == "Secret" && o["metadata"]["name"] == secret && o["metadata"]["namespace"] == ns) return o;
  return std::nullopt;
}

bool namespace_exists(const std::string& cluster, const std::string& ns) {
  auto all = control("GET", "/_control/objects?cluster=" + cluster);
  for (const auto& n : all["namespaces"])
    if (n == ns) return true;
  return false;
}

std::map<std::string, std::string> decoded(const nlohmann::json& secret) {
  std::map<std::string, std::string> out;
  for (auto it = secret["data"].begin(); it != secret["data"].end(); ++it) {
    auto bytes = pki::base64_decode(it->get<std::string>());
    out[it.key()] = std::string(bytes.begin(), bytes.end());
  }
  return out;
}

std::map<std::string, std::string> bundle_files(const ca::Bundle& b) {
  return {{"ca-cert.pem", b.ca_cert}, {"ca-key.pem", b.ca_key}, {"cert-chain.pem", b.cert_chain},
          {"root-cert.pem", b.root_cert}};
}

std::string b64(const std::string& s) { return pki::base64_encode(pki::as_bytes(s)); }

// The request log of `cluster` as "METHOD path status" lines.
Strings log_of(const std::string& cluster) {
  Strings out;
  for (const auto& r : FakeKube::instance().requests(cluster)) {
    std::string status = r["status"].is_number() ? std::to_string(r["status"].get<int>()) : "-";
    out.push_back(r["method"].get<std::string>() + " " + r["path"].get<std::string>() + " " + status);
  }
  return out;
}

int writes(const std::string& cluster) {
  int n = 0;
  for (const auto& r : FakeKube::instance().requests(cluster))
    if (r["method"] != "GET") ++n;
  return n;
}

// Makes a namespace with the admin token, then forgets the requests that took.
void make_namespace(const std::string& prefix, const std::string& token, const std::string& ns = kNs) {
  kube::Client c(FakeKube::instance().token_access(prefix, token), kube::ClientOptions{});
  c.create_namespace(ns);
  clear_log();
}

// A Secret as someone (meshtrust or not) left it.
nlohmann::json seeded_secret(const nlohmann::json& data, const nlohmann::json& labels,
                             const nlohmann::json& annotations = nlohmann::json::object(),
                             const std::string& type = "Opaque") {
  return {{"kind", "Secret"},
          {"type", type},
          {"metadata", {{"name", "cacerts"}, {"namespace", kNs}, {"labels", labels}, {"annotations", annotations}}},
          {"data", data}};
}

nlohmann::json managed() { return {{kube::kManagedByLabel, kube::kManagedByValue}}; }

// A cluster whose user may do everything but create namespaces (added at run time; reset keeps it).
void add_cluster_without_namespace_rights() {
  nlohmann::json spec = {{"clusters",
                          {{{"name", "nons"},
                            {"prefix", "/clusters/nons"},
                            {"tokens", {{"tok-carol", "carol"}}},
                            {"deny", {{{"user", "carol"}, {"verbs", {"create"}}, {"resources", {"namespaces"}}}}}}}}};
  control("POST", "/_control/clusters", &spec);
}

// ---- targets and the gateway ------------------------------------------------------------------

ca::PushTarget target_for(const kube::ClusterAccess& access, const std::string& cluster, const std::string& ns = kNs) {
  ca::PushTarget t;
  t.cluster = cluster;
  t.ns = ns;
  t.secret_name = "cacerts";
  t.access.kubeconfig = kube::to_kubeconfig(access);
  t.access.context = access.context;
  t.access.server = access.server.to_string();
  t.access.auth = kube::describe_auth(access.auth);
  t.access.insecure = access.insecure_skip_tls_verify;
  return t;
}

ca::PushTarget target(const std::string& cluster = "c1", const std::string& token = "tok-c1",
                      const std::string& ns = kNs) {
  std::string prefix = cluster == "root" ? "" : "/clusters/" + cluster;
  return target_for(FakeKube::instance().token_access(prefix, token), cluster, ns);
}

// A gateway whose waits are recorded, not slept.
struct Env {
  FakeKube& fake = fresh();
  FastOptions fast;
  kube::KubeGateway gw{kube::GatewayOptions{fast.options("unused")}};
};

ca::PushOptions opts() { return ca::PushOptions{}; }
ca::PushOptions dry() {
  ca::PushOptions o;
  o.dry_run = true;
  return o;
}
ca::PushOptions forced() {
  ca::PushOptions o;
  o.force = true;
  return o;
}
ca::PushOptions roots_checked() {
  ca::PushOptions o;
  o.check_roots = true;
  return o;
}

const Strings kCreateLog = {"GET " + kSecretPath + " 404", "POST " + kSecretsPath + " 201", "GET " + kSecretPath + " 200"};
const Strings kReplaceLog = {"GET " + kSecretPath + " 200", "PUT " + kSecretPath + " 200", "GET " + kSecretPath + " 200"};

// Every message of an outcome, for "no credential in it" checks.
std::string all_text(const ca::PushOutcome& o) {
  std::string s = o.error;
  for (const auto& w : o.warnings) s += "\n" + w;
  for (const auto& c : o.changes) s += "\n" + c;
  return s;
}

}  // namespace

// ---- creating ---------------------------------------------------------------------------------

TEST_CASE("kube.gateway: creates the Secret in an existing namespace, with our label and annotations") {
  Env env;
  make_namespace("/clusters/c1", "tok-c1");
  auto out = env.gw.push(target(), bundle_a(), opts());
  CHECK(name(out.result) == "Created");
  CHECK(out.error == "");
  CHECK(out.attempts == 3);
  CHECK_FALSE(out.namespace_created);
  CHECK(out.changes == Strings{"secret created"});
  CHECK(out.warnings.empty());
  CHECK(name(out.roots) == "NotChecked");
  CHECK(log_of("c1") == kCreateLog);
  auto log = env.fake.requests("c1");
  CHECK(log[1]["query"] == "fieldManager=meshtrust");
  CHECK(log[1]["user"] == "admin");

  auto s = stored("c1");
  REQUIRE(s.has_value());
  CHECK((*s)["type"] == "Opaque");
  CHECK(decoded(*s) == bundle_files(bundle_a()));
  CHECK((*s)["metadata"]["labels"] == nlohmann::json{{"app.kubernetes.io/managed-by", "meshtrust"}});
  CHECK((*s)["metadata"]["annotations"] ==
        nlohmann::json{{"meshtrust.io/intermediate-serial", bundle_a().serial},
                       {"meshtrust.io/intermediate-sha256", bundle_a().fingerprint_sha256},
                       {"meshtrust.io/bundle-sha256", bundle_a().bundle_sha256}});
  CHECK(env.fast.waits.empty());
}

TEST_CASE("kube.gateway: a missing namespace is created, then the Secret") {
  Env env;
  auto out = env.gw.push(target(), bundle_a(), opts());
  CHECK(name(out.result) == "Created");
  CHECK(out.namespace_created);
  CHECK(out.changes == Strings{"secret created", "namespace istio-system created"});
  CHECK(out.attempts == 6);
  CHECK(log_of("c1") == Strings{"GET " + kSecretPath + " 404", "POST " + kSecretsPath + " 404", "GET " + kNsPath + " 404",
                                "POST /api/v1/namespaces 201", "POST " + kSecretsPath + " 201",
                                "GET " + kSecretPath + " 200"});
  CHECK(namespace_exists("c1", kNs));
  REQUIRE(stored("c1").has_value());
  CHECK(decoded(*stored("c1")) == bundle_files(bundle_a()));
}

TEST_CASE("kube.gateway: a missing namespace the credential may not create is a clear failure") {
  Env env;
  add_cluster_without_namespace_rights();
  env.fake.reset();
  auto out = env.gw.push(target("nons", "tok-carol"), bundle_a(), opts());
  CHECK(name(out.result) == "Failed");
  CHECK(out.error ==
        "cluster nons: namespace istio-system does not exist and the credential may not create it: namespaces "
        "\"istio-system\" is forbidden: User \"carol\" cannot create resource \"namespaces\" in API group \"\" at the "
        "cluster scope");
  CHECK(out.attempts == 4);
  CHECK_FALSE(out.namespace_created);
  CHECK(out.changes.empty());
  CHECK_FALSE(namespace_exists("nons", kNs));
  CHECK_FALSE(stored("nons").has_value());
}

TEST_CASE("kube.gateway: a credential that may not create Secrets fails once, naming the request") {
  Env env;
  auto out = env.gw.push(target("locked", "tok-bob"), bundle_a(), opts());
  CHECK(name(out.result) == "Failed");
  CHECK(out.error ==
        "cluster locked: POST secrets/istio-system/cacerts: 403 Forbidden: secrets is forbidden: User \"bob\" cannot "
        "create resource \"secrets\" in API group \"\" in the namespace \"istio-system\"");
  CHECK(out.attempts == 2);
  CHECK(log_of("locked") == Strings{"GET " + kSecretPath + " 404", "POST " + kSecretsPath + " 403"});
  CHECK(env.fast.waits.empty());
}

// ---- leaving alone, replacing ------------------------------------------------------------------

TEST_CASE("kube.gateway: a second push of the same bundle changes nothing and writes nothing") {
  Env env;
  REQUIRE(name(env.gw.push(target(), bundle_a(), opts()).result) == "Created");
  clear_log();
  auto rv = (*stored("c1"))["metadata"]["resourceVersion"];

  auto again = env.gw.push(target(), bundle_a(), opts());
  CHECK(name(again.result) == "Unchanged");
  CHECK(again.attempts == 1);
  CHECK(again.changes.empty());
  CHECK(again.error == "");
  CHECK(log_of("c1") == Strings{"GET " + kSecretPath + " 200"});
  CHECK((*stored("c1"))["metadata"]["resourceVersion"] == rv);

  // A dry run agrees.
  CHECK(name(env.gw.push(target(), bundle_a(), dry()).result) == "Unchanged");

  // Labels and annotations others add are not drift.
  auto s = *stored("c1");
  s["metadata"]["labels"]["team"] = "mesh";
  s["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] = "Prune=false";
  env.fake.seed("c1", s);
  clear_log();
  CHECK(name(env.gw.push(target(), bundle_a(), opts()).result) == "Unchanged");
  CHECK(writes("c1") == 0);
}

TEST_CASE("kube.gateway: a rotated intermediate replaces the Secret, listing what changed but no values") {
  Env env;
  REQUIRE(name(env.gw.push(target(), bundle_a(), opts()).result) == "Created");
  clear_log();
  auto out = env.gw.push(target(), bundle_b(), opts());
  CHECK(name(out.result) == "Replaced");
  CHECK(out.attempts == 3);
  CHECK(out.changes == Strings{"data ca-cert.pem changed", "data ca-key.pem changed", "data cert-chain.pem changed",
                               "annotation meshtrust.io/bundle-sha256 changed",
                               "annotation meshtrust.io/intermediate-serial changed",
                               "annotation meshtrust.io/intermediate-sha256 changed"});
  CHECK(log_of("c1") == kReplaceLog);
  auto s = stored("c1");
  CHECK(decoded(*s) == bundle_files(bundle_b()));
  CHECK((*s)["metadata"]["annotations"]["meshtrust.io/intermediate-sha256"] == bundle_b().fingerprint_sha256);
}

TEST_CASE("kube.gateway: stale tls.* keys are removed, since istiod would prefer them") {
  Env env;
  auto files = bundle_files(bundle_a());
  nlohmann::json data = {{"tls.crt", b64("old cert")}, {"tls.key", b64("old key")}, {"ca.crt", b64("old ca")}};
  for (const auto& [k, v] : files) data[k] = b64(v);
  env.fake.seed("c1", seeded_secret(data, managed(),
                                    {{"meshtrust.io/intermediate-serial", bundle_a().serial},
                                     {"meshtrust.io/intermediate-sha256", bundle_a().fingerprint_sha256},
                                     {"meshtrust.io/bundle-sha256", bundle_a().bundle_sha256}}));
  auto out = env.gw.push(target(), bundle_a(), opts());
  CHECK(name(out.result) == "Replaced");
  CHECK(out.changes == Strings{"data ca.crt removed", "data tls.crt removed", "data tls.key removed"});
  CHECK(log_of("c1") == kReplaceLog);
  CHECK(decoded(*stored("c1")) == files);
}

TEST_CASE("kube.gateway: a Secret meshtrust does not manage is refused, and taken over with force") {
  Env env;
  nlohmann::json theirs = seeded_secret({{"ca-cert.pem", b64("theirs")}}, {{"owner", "team-a"}},
                                        {{"note", "hand-made"}, {kLastApplied, "{\"data\":{\"ca-key.pem\":\"...\"}}"}});
  env.fake.seed("c1", theirs);
  const std::string refusal =
      "cluster c1: Secret istio-system/cacerts exists and is not managed by meshtrust (no label "
      "app.kubernetes.io/managed-by=meshtrust); pass --force to replace it";

  auto out = env.gw.push(target(), bundle_a(), opts());
  CHECK(name(out.result) == "Failed");
  CHECK(out.error == refusal);
  CHECK(out.attempts == 1);
  auto dry_out = env.gw.push(target(), bundle_a(), dry());
  CHECK(name(dry_out.result) == "Failed");  // a dry run predicts the push
  CHECK(dry_out.error == refusal);
  CHECK(writes("c1") == 0);
  CHECK(decoded(*stored("c1")) == std::map<std::string, std::string>{{"ca-cert.pem", "theirs"}});

  auto dry_forced = forced();
  dry_forced.dry_run = true;
  auto would = env.gw.push(target(), bundle_a(), dry_forced);
  CHECK(name(would.result) == "WouldReplace");
  CHECK(would.changes == Strings{"data ca-cert.pem changed", "data ca-key.pem added", "data cert-chain.pem added",
                                 "data root-cert.pem added", "label app.kubernetes.io/managed-by added",
                                 "annotation meshtrust.io/bundle-sha256 added",
                                 "annotation meshtrust.io/intermediate-serial added",
                                 "annotation meshtrust.io/intermediate-sha256 added"});
  CHECK(writes("c1") == 0);

  clear_log();
  auto taken = env.gw.push(target(), bundle_a(), forced());
  CHECK(name(taken.result) == "Replaced");
  CHECK(taken.changes == would.changes);
  CHECK(log_of("c1") == kReplaceLog);
  auto s = *stored("c1");
  CHECK(decoded(s) == bundle_files(bundle_a()));
  // Others' labels and annotations are kept; kubectl's last-applied copy (with its data) is not.
  CHECK(s["metadata"]["labels"] == nlohmann::json{{"owner", "team-a"}, {"app.kubernetes.io/managed-by", "meshtrust"}});
  CHECK(s["metadata"]["annotations"]["note"] == "hand-made");
  CHECK_FALSE(s["metadata"]["annotations"].contains(kLastApplied));
  CHECK(s["metadata"]["annotations"]["meshtrust.io/intermediate-serial"] == bundle_a().serial);

  // From now on it is ours: no force needed.
  CHECK(name(env.gw.push(target(), bundle_b(), opts()).result) == "Replaced");
}

TEST_CASE("kube.gateway: a Secret of another type is deleted (guarded by its resourceVersion) and created only with force") {
  Env env;
  env.fake.seed("c1", seeded_secret({{"tls.crt", b64("x")}, {"tls.key", b64("y")}}, managed(), nlohmann::json::object(),
                                    "kubernetes.io/tls"));
  auto out = env.gw.push(target(), bundle_a(), opts());
  CHECK(name(out.result) == "Failed");
  CHECK(out.error ==
        "cluster c1: Secret istio-system/cacerts has type kubernetes.io/tls, which cannot be changed to Opaque; pass "
        "--force to delete it and create it again");
  CHECK(writes("c1") == 0);

  auto would = env.gw.push(target(), bundle_a(), [] {
    auto o = forced();
    o.dry_run = true;
    return o;
  }());
  CHECK(name(would.result) == "WouldReplace");
  REQUIRE_FALSE(would.changes.empty());
  CHECK(would.changes.front() == "type kubernetes.io/tls replaced by Opaque (deleted and created again)");
  CHECK(writes("c1") == 0);

  // A concurrent writer between our read and our DELETE: the precondition refuses the delete,
  // and the next round reads the new version.
  clear_log();
  env.fake.fault({{"cluster", "c1"}, {"method", "DELETE"}, {"path", kSecretPath}, {"bump", true}});
  auto taken = env.gw.push(target(), bundle_a(), forced());
  CHECK(name(taken.result) == "Replaced");
  CHECK(taken.error == "");
  CHECK(taken.changes == would.changes);
  const std::string review = "POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews 201";
  CHECK(log_of("c1") == Strings{"GET " + kSecretPath + " 200", review, "DELETE " + kSecretPath + " 409",
                                "GET " + kSecretPath + " 200", review, "DELETE " + kSecretPath + " 200",
                                "POST " + kSecretsPath + " 201", "GET " + kSecretPath + " 200"});
  CHECK(taken.attempts == 8);
  auto s = *stored("c1");
  CHECK(s["type"] == "Opaque");
  CHECK(decoded(s) == bundle_files(bundle_a()));
}

TEST_CASE("kube.gateway: a forced recreate never deletes what it may not create again, and says when the create fails") {
  Env env;
  auto tls = seeded_secret({{"tls.crt", b64("x")}}, managed(), nlohmann::json::object(), "kubernetes.io/tls");
  // bob may delete Secrets but not create them: nothing is deleted.
  env.fake.seed("locked", tls);
  auto out = env.gw.push(target("locked", "tok-bob"), bundle_a(), forced());
  CHECK(name(out.result) == "Failed");
  CHECK(out.error == "cluster locked: Secret istio-system/cacerts must be deleted and created again, but the "
                     "credential may not create secrets in istio-system; nothing was deleted");
  CHECK(out.attempts == 2);
  CHECK(env.fake.count("locked", "DELETE", kSecretPath) == 0);
  CHECK((*stored("locked"))["type"] == "kubernetes.io/tls");

  // Allowed, but the create fails after the delete: the message says the Secret is gone.
  env.fake.seed("c1", tls);
  env.fake.fault({{"cluster", "c1"}, {"method", "POST"}, {"path", kSecretsPath}, {"status", 500}, {"count", 10}});
  out = env.gw.push(target(), bundle_a(), forced());
  CHECK(name(out.result) == "Failed");
  CHECK(out.error == "cluster c1: Secret istio-system/cacerts was deleted to be created again, but the create failed: "
                     "POST secrets/istio-system/cacerts: 500 InternalError: injected fault 500");
  CHECK(out.attempts == 3 + 4);  // GET, review, DELETE, then four POSTs
  CHECK_FALSE(stored("c1").has_value());
}

TEST_CASE("kube.gateway: an immutable Secret with other data is recreated only with force") {
  Env env;
  auto old = seeded_secret({{"ca-cert.pem", b64("old")}}, managed());
  old["immutable"] = true;
  env.fake.seed("c1", old);
  auto out = env.gw.push(target(), bundle_a(), opts());
  CHECK(name(out.result) == "Failed");
  CHECK(out.error == "cluster c1: Secret istio-system/cacerts is immutable and its data differs; pass --force to "
                     "delete it and create it again");
  CHECK(writes("c1") == 0);
  auto taken = env.gw.push(target(), bundle_a(), forced());
  CHECK(name(taken.result) == "Replaced");
  CHECK(taken.changes.front() == "immutable Secret deleted and created again");
  auto s = *stored("c1");
  CHECK_FALSE(s.contains("immutable"));
  CHECK(decoded(s) == bundle_files(bundle_a()));
}

// ---- races --------------------------------------------------------------------------------------

TEST_CASE("kube.gateway: a concurrent writer (409 Conflict) makes the push re-read and decide again") {
  Env env;
  REQUIRE(name(env.gw.push(target(), bundle_a(), opts()).result) == "Created");
  clear_log();
  env.fake.fault({{"cluster", "c1"}, {"method", "PUT"}, {"path", kSecretPath}, {"bump", true}});
  auto out = env.gw.push(target(), bundle_b(), opts());
  CHECK(name(out.result) == "Replaced");
  CHECK(out.attempts == 5);
  CHECK(log_of("c1") == Strings{"GET " + kSecretPath + " 200", "PUT " + kSecretPath + " 409",
                                "GET " + kSecretPath + " 200", "PUT " + kSecretPath + " 200",
                                "GET " + kSecretPath + " 200"});
  CHECK(decoded(*stored("c1")) == bundle_files(bundle_b()));
  CHECK(env.fast.waits.empty());  // a conflict is re-decided, not retried after a backoff

  // A writer that always wins: give up after five rounds.
  clear_log();
  env.fake.fault({{"cluster", "c1"}, {"method", "PUT"}, {"path", kSecretPath}, {"bump", true}, {"count", 50}});
  auto lost = env.gw.push(target(), bundle_a(), opts());
  CHECK(name(lost.result) == "Failed");
  CHECK(lost.error == "cluster c1: Secret istio-system/cacerts changed concurrently 5 times while meshtrust was "
                      "writing it; try again");
  CHECK(lost.attempts == 10);
  CHECK(env.fake.count("c1", "PUT", kSecretPath) == 5);
  CHECK(env.fake.count("c1", "GET", kSecretPath) == 5);
  CHECK(decoded(*stored("c1")) == bundle_files(bundle_b()));
}

TEST_CASE("kube.gateway: a Secret created by someone else between our read and our POST is re-read") {
  Env env;
  make_namespace("/clusters/c1", "tok-c1");
  // Another writer's POST lands first: ours meets 409 AlreadyExists.
  env.fake.fault({{"cluster", "c1"}, {"method", "POST"}, {"path", kSecretsPath}, {"status", 409},
                  {"reason", "AlreadyExists"}, {"message", "secrets \"cacerts\" already exists"}});
  env.fake.seed("c1", seeded_secret({{"ca-cert.pem", b64("other writer")}}, managed()));
  // The fake now has the Secret; make the first GET miss it, as if read before the other write.
  env.fake.fault({{"cluster", "c1"}, {"method", "GET"}, {"path", kSecretPath}, {"status", 404}});
  clear_log();
  auto out = env.gw.push(target(), bundle_a(), opts());
  CHECK(name(out.result) == "Replaced");
  CHECK(log_of("c1") == Strings{"GET " + kSecretPath + " 404", "POST " + kSecretsPath + " 409",
                                "GET " + kSecretPath + " 200", "PUT " + kSecretPath + " 200",
                                "GET " + kSecretPath + " 200"});
  CHECK(out.attempts == 5);
  CHECK(decoded(*stored("c1")) == bundle_files(bundle_a()));
}

TEST_CASE("kube.gateway: eight pushes of one bundle at once: one creates, the others find it done") {
  Env env;
  kube::KubeGateway gw;  // real sleeps; no faults, so none happen
  std::vector<ca::PushOutcome> outs(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < outs.size(); ++i)
    threads.emplace_back([&, i] { outs[i] = gw.push(target(), bundle_a(), opts()); });
  for (auto& t : threads) t.join();
  int created = 0, unchanged = 0, ns_created = 0;
  for (const auto& o : outs) {
    CAPTURE(o.error);
    if (o.result == PushResult::Created) ++created;
    if (o.result == PushResult::Unchanged) ++unchanged;
    if (o.namespace_created) ++ns_created;
  }
  CHECK(created == 1);
  CHECK(unchanged == 7);
  CHECK(ns_created == 1);
  CHECK(env.fake.count("c1", "POST", "/api/v1/namespaces") >= 1);
  CHECK(decoded(*stored("c1")) == bundle_files(bundle_a()));
}

// ---- retries and limits ------------------------------------------------------------------------

TEST_CASE("kube.gateway: transient faults are retried inside the push and counted in attempts") {
  struct Case {
    std::string what;
    nlohmann::json fault;
    int attempts;
  };
  const std::vector<Case> cases = {
      {"500 on the read", {{"method", "GET"}, {"path", kSecretPath}, {"status", 500}}, 4},
      {"503 on the read, twice", {{"method", "GET"}, {"path", kSecretPath}, {"status", 503}, {"count", 2}}, 5},
      {"429 on the read", {{"method", "GET"}, {"path", kSecretPath}, {"status", 429}, {"retry_after", 2}}, 4},
      {"a dropped connection on the read", {{"method", "GET"}, {"path", kSecretPath}, {"drop", true}}, 4},
      {"503 on the write", {{"method", "POST"}, {"path", kSecretsPath}, {"status", 503}}, 4},
      {"a dropped connection on the write", {{"method", "POST"}, {"path", kSecretsPath}, {"drop", true}}, 4},
      {"500 on the read-back", {{"method", "GET"}, {"path", kSecretPath}, {"status", 500}, {"count", 1}}, 4},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Env env;
    make_namespace("/clusters/c1", "tok-c1");
    auto fault = c.fault;
    fault["cluster"] = "c1";
    if (c.what == "500 on the read-back") {
      // Let the first GET through untouched: a delay-free no-op fault takes it.
      env.fake.fault({{"cluster", "c1"}, {"method", "GET"}, {"path", kSecretPath}, {"delay", 0.001}});
    }
    env.fake.fault(fault);
    auto out = env.gw.push(target(), bundle_a(), opts());
    CHECK(name(out.result) == "Created");
    CHECK(out.error == "");
    CHECK(out.attempts == c.attempts);
    CHECK(static_cast<int>(env.fake.requests("c1").size()) == c.attempts);
    CHECK(static_cast<int>(env.fast.waits.size()) == c.attempts - 3);
    if (c.what == "429 on the read") CHECK(env.fast.waits == std::vector<std::chrono::milliseconds>{2000ms});
    if (c.what == "500 on the read") {
      REQUIRE(env.fast.waits.size() == 1);
      CHECK(env.fast.waits[0] >= 50ms);  // half of the base backoff, at least
      CHECK(env.fast.waits[0] <= 100ms);
    }
    CHECK(decoded(*stored("c1")) == bundle_files(bundle_a()));
  }
}

TEST_CASE("kube.gateway: a slow answer times out and is retried") {
  Env env;
  make_namespace("/clusters/c1", "tok-c1");
  auto o = env.fast.options("unused");
  o.request_timeout = 300ms;
  kube::KubeGateway gw{kube::GatewayOptions{o}};
  env.fake.fault({{"cluster", "c1"}, {"method", "GET"}, {"path", kSecretPath}, {"delay", 0.8}});
  auto out = gw.push(target(), bundle_a(), opts());
  CHECK(name(out.result) == "Created");
  CHECK(out.attempts == 4);
  CHECK(env.fast.waits.size() == 1);
}

TEST_CASE("kube.gateway: 400, 401, 403 and 422 are answers: one attempt, no wait, a failure naming the request") {
  for (int status : {400, 401, 403, 422}) {
    CAPTURE(status);
    Env env;
    env.fake.fault({{"cluster", "c1"}, {"method", "GET"}, {"path", kSecretPath}, {"status", status}, {"count", 5}});
    auto out = env.gw.push(target(), bundle_a(), opts());
    CHECK(name(out.result) == "Failed");
    CHECK(out.attempts == 1);
    CHECK(env.fake.count("c1", "GET", kSecretPath) == 1);
    CHECK(env.fake.requests("c1").size() == 1);
    CHECK(env.fast.waits.empty());
    const char* reason = status == 400 ? "BadRequest" : status == 401 ? "Unauthorized" : status == 403 ? "Forbidden" : "Invalid";
    CHECK(out.error == "cluster c1: GET secrets/istio-system/cacerts: " + std::to_string(status) + " " + reason +
                           ": injected fault " + std::to_string(status));
  }
  // The same for a write: 422 on the PUT.
  Env env;
  REQUIRE(name(env.gw.push(target(), bundle_a(), opts()).result) == "Created");
  env.fake.fault({{"cluster", "c1"}, {"method", "PUT"}, {"status", 422}, {"count", 5}});
  clear_log();
  auto out = env.gw.push(target(), bundle_b(), opts());
  CHECK(name(out.result) == "Failed");
  CHECK(out.attempts == 2);
  CHECK(env.fake.count("c1", "PUT", kSecretPath) == 1);
  CHECK(env.fast.waits.empty());
}

TEST_CASE("kube.gateway: a 404 on the PUT (deleted since read) is re-decided, not retried") {
  Env env;
  REQUIRE(name(env.gw.push(target(), bundle_a(), opts()).result) == "Created");
  clear_log();
  env.fake.fault({{"cluster", "c1"}, {"method", "PUT"}, {"path", kSecretPath}, {"status", 404}});
  auto out = env.gw.push(target(), bundle_b(), opts());
  CHECK(name(out.result) == "Replaced");
  CHECK(log_of("c1") == Strings{"GET " + kSecretPath + " 200", "PUT " + kSecretPath + " 404",
                                "GET " + kSecretPath + " 200", "PUT " + kSecretPath + " 200",
                                "GET " + kSecretPath + " 200"});
  CHECK(env.fast.waits.empty());
}

TEST_CASE("kube.gateway: the per-cluster deadline bounds the whole push") {
  SUBCASE("a slow cluster is cut off at the deadline") {
    Env env;
    env.fake.fault({{"cluster", "c1"}, {"path", kSecretPath}, {"delay", 2.5}, {"count", 5}});
    auto o = opts();
    o.deadline = 1s;
    auto start = std::chrono::steady_clock::now();
    auto out = env.gw.push(target(), bundle_a(), o);
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(name(out.result) == "Failed");
    // "within 1.0 s" (the budget less the little spent before the request; 0.9 on a slow machine).
    CHECK(out.error.starts_with("cluster c1: GET secrets/istio-system/cacerts: no answer from " +
                                env.fake.url("/clusters/c1") + " within "));
    CHECK((out.error.ends_with(" within 1.0 s") || out.error.ends_with(" within 0.9 s")));
    CHECK(out.attempts == 1);
    CHECK(took >= 900ms);
    CHECK(took < 1800ms);
    CHECK(env.fast.waits.empty());  // no retry the deadline cannot afford
  }
  SUBCASE("waits spent in one request leave less for the next") {
    Env env;
    make_namespace("/clusters/c1", "tok-c1");
    env.fake.fault({{"cluster", "c1"}, {"method", "GET"}, {"path", kSecretPath}, {"status", 429}, {"retry_after", 2}});
    env.fake.fault({{"cluster", "c1"}, {"method", "POST"}, {"path", kSecretsPath}, {"status", 429}, {"retry_after", 2}});
    auto o = opts();
    o.deadline = 3s;
    auto out = env.gw.push(target(), bundle_a(), o);
    // The read waited 2 s (counted, not slept) and succeeded; the write's 2 s wait no longer fits.
    CHECK(name(out.result) == "Failed");
    CHECK(out.error == "cluster c1: POST secrets/istio-system/cacerts: 429 TooManyRequests: injected fault 429");
    CHECK(env.fast.waits == std::vector<std::chrono::milliseconds>{2000ms});
    CHECK(out.attempts == 3);
    // With the default minute, both waits fit.
    env.fake.reset();
    make_namespace("/clusters/c1", "tok-c1");
    env.fast.waits.clear();
    env.fake.fault({{"cluster", "c1"}, {"method", "GET"}, {"path", kSecretPath}, {"status", 429}, {"retry_after", 2}});
    env.fake.fault({{"cluster", "c1"}, {"method", "POST"}, {"path", kSecretsPath}, {"status", 429}, {"retry_after", 2}});
    auto ok = env.gw.push(target(), bundle_a(), opts());
    CHECK(name(ok.result) == "Created");
    CHECK(ok.attempts == 5);
    CHECK(env.fast.waits == std::vector<std::chrono::milliseconds>{2000ms, 2000ms});
  }
  SUBCASE("what is left of the deadline bounds the next request") {
    Env env;
    make_namespace("/clusters/c1", "tok-c1");
    // The read answers after 0.7 s of a 1 s budget, the POST after 0.7 s more: past the deadline.
    env.fake.fault({{"cluster", "c1"}, {"path_regex", "secrets"}, {"delay", 0.7}, {"count", 5}});
    auto o = opts();
    o.deadline = 1s;
    auto out = env.gw.push(target(), bundle_a(), o);
    CHECK(name(out.result) == "Failed");
    CHECK(out.error.starts_with("cluster c1: POST secrets/istio-system/cacerts: no answer from "));
    CHECK(out.attempts == 2);
  }
}

TEST_CASE("kube.gateway: a server certificate from another CA fails once, with a TLS sentence") {
  Env env;
  auto a = env.fake.token_access("/clusters/c1", "tok-c1");
  a.ca_pem = TestPki::instance().read("other-ca.pem");
  auto out = env.gw.push(target_for(a, "c1"), bundle_a(), opts());
  CHECK(name(out.result) == "Failed");
  CHECK(out.error.starts_with("cluster c1: GET secrets/istio-system/cacerts: the server certificate of " +
                              env.fake.url("/clusters/c1") + " does not verify: "));
  CHECK(out.attempts == 1);
  CHECK(env.fast.waits.empty());
  CHECK(env.fake.requests("c1").empty());  // no HTTP request ever got through
}

// ---- dry runs ------------------------------------------------------------------------------------

TEST_CASE("kube.gateway: a dry run reads, lists what it would change, and writes nothing") {
  Env env;
  auto out = env.gw.push(target(), bundle_a(), dry());
  CHECK(name(out.result) == "WouldCreate");
  CHECK(out.changes == Strings{"secret created", "namespace istio-system created"});
  CHECK(out.attempts == 2);
  CHECK(log_of("c1") == Strings{"GET " + kSecretPath + " 404", "GET " + kNsPath + " 404"});
  CHECK_FALSE(namespace_exists("c1", kNs));

  make_namespace("/clusters/c1", "tok-c1");
  out = env.gw.push(target(), bundle_a(), dry());
  CHECK(name(out.result) == "WouldCreate");
  CHECK(out.changes == Strings{"secret created"});
  CHECK(writes("c1") == 0);
  CHECK_FALSE(stored("c1").has_value());

  REQUIRE(name(env.gw.push(target(), bundle_a(), opts()).result) == "Created");
  auto before = *stored("c1");
  clear_log();
  out = env.gw.push(target(), bundle_b(), dry());
  CHECK(name(out.result) == "WouldReplace");
  CHECK(out.changes.size() == 6);
  CHECK(out.changes.front() == "data ca-cert.pem changed");
  CHECK(log_of("c1") == Strings{"GET " + kSecretPath + " 200"});
  CHECK(*stored("c1") == before);
  // No change text quotes a value.
  for (const auto& c : out.changes) {
    CHECK(c.find(bundle_b().serial) == std::string::npos);
    CHECK(c.find(bundle_b().fingerprint_sha256) == std::string::npos);
  }
}

// ---- roots taken up ---------------------------------------------------------------------------------

TEST_CASE("kube.gateway: check_roots compares the certificates of istio-ca-root-cert with the bundle's roots") {
  Env env;
  auto configmap = [&](const std::string& pem) {
    env.fake.seed("c1", {{"kind", "ConfigMap"},
                         {"metadata", {{"name", "istio-ca-root-cert"}, {"namespace", kNs}}},
                         {"data", {{"root-cert.pem", pem}}}});
  };

  auto out = env.gw.push(target(), bundle_a(), roots_checked());
  CHECK(name(out.result) == "Created");
  CHECK(name(out.roots) == "Pending");  // istiod has not published anything yet
  CHECK(out.attempts == 7);             // the create with its namespace, then the ConfigMap
  CHECK(env.fake.count("c1", "GET", kRootCmPath) == 1);
  CHECK(out.warnings.empty());

  configmap(other_root().pem());  // istiod still publishes the old mesh's root
  out = env.gw.push(target(), bundle_a(), roots_checked());
  CHECK(name(out.result) == "Unchanged");
  CHECK(name(out.roots) == "Pending");

  // Both roots, in another order, with CRLF line ends and text around: the certificates count,
  // not the bytes of the file.
  std::string ours = test_ca().root.pem(), crlf;
  for (char c : ours) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  configmap("# published by istiod\r\n" + crlf + other_root().pem());
  out = env.gw.push(target(), bundle_a(), roots_checked());
  CHECK(name(out.roots) == "TakenUp");
  CHECK(out.attempts == 2);

  // A multi-root bundle needs every one of its roots there.
  auto multi = bundle_a();
  multi.root_cert = test_ca().root.pem() + other_root().pem();
  configmap(test_ca().root.pem());
  out = env.gw.push(target(), multi, roots_checked());
  CHECK(name(out.result) == "Replaced");
  CHECK(name(out.roots) == "Pending");
  configmap(other_root().pem() + test_ca().root.pem());
  CHECK(name(env.gw.push(target(), multi, roots_checked()).roots) == "TakenUp");

  // Garbage in the ConfigMap is Pending, not a failure.
  configmap("not a certificate");
  out = env.gw.push(target(), multi, roots_checked());
  CHECK(name(out.result) == "Unchanged");
  CHECK(name(out.roots) == "Pending");

  // A ConfigMap that cannot be read: Pending with a warning; the push itself succeeded.
  env.fake.fault({{"cluster", "c1"}, {"method", "GET"}, {"path", kRootCmPath}, {"status", 403}, {"count", 5}});
  out = env.gw.push(target(), multi, roots_checked());
  CHECK(name(out.result) == "Unchanged");
  CHECK(name(out.roots) == "Pending");
  CHECK(out.warnings == Strings{"could not read ConfigMap istio-ca-root-cert to check the roots: cluster c1: GET "
                                "configmaps/istio-system/istio-ca-root-cert: 403 Forbidden: injected fault 403"});

  // Not asked: not checked, not read.
  clear_log();
  CHECK(name(env.gw.push(target(), multi, opts()).roots) == "NotChecked");
  CHECK(env.fake.count("c1", "GET", kRootCmPath) == 0);
}

// ---- access, kubeconfigs, credentials in messages ---------------------------------------------------

TEST_CASE("kube.gateway: insecure-skip-tls-verify works and is warned about on every push") {
  Env env;
  auto a = env.fake.token_access("/clusters/c1", "tok-c1");
  a.ca_pem.clear();
  a.insecure_skip_tls_verify = true;
  auto t = target_for(a, "c1");
  const Strings warning{"TLS verification of " + env.fake.url("/clusters/c1") +
                        " is off (insecure-skip-tls-verify): the API server is not authenticated"};
  auto out = env.gw.push(t, bundle_a(), opts());
  CHECK(name(out.result) == "Created");
  CHECK(out.warnings == warning);
  out = env.gw.push(t, bundle_a(), opts());
  CHECK(name(out.result) == "Unchanged");
  CHECK(out.warnings == warning);
  // A verified cluster gets no such warning.
  CHECK(env.gw.push(target(), bundle_a(), opts()).warnings.empty());
}

TEST_CASE("kube.gateway: a kubeconfig that cannot be used fails before any request") {
  Env env;
  auto t = target();
  t.access.context = "nope";
  auto out = env.gw.push(t, bundle_a(), opts());
  CHECK(name(out.result) == "Failed");
  CHECK(out.error == "cluster c1: kubeconfig has no context named 'nope' (contexts: test)");
  CHECK(out.attempts == 0);

  t = target();
  t.access.kubeconfig = "just: [text";
  out = env.gw.push(t, bundle_a(), opts());
  CHECK(name(out.result) == "Failed");
  CHECK(out.error.starts_with("cluster c1: "));
  CHECK(env.fake.requests("c1").empty());
}

TEST_CASE("kube.gateway: no message carries the token or the bundle's key") {
  Env env;
  const std::string token = "tok-SECRET-do-not-print-4242";
  Strings texts;
  // Refused credential.
  texts.push_back(all_text(env.gw.push(target("c1", token), bundle_a(), opts())));
  CHECK(texts.back().starts_with("cluster c1: GET secrets/istio-system/cacerts: 401 Unauthorized"));
  // Wrong CA, insecure, deadline, unknown context: each with the secret token in the kubeconfig.
  auto a = env.fake.token_access("/clusters/c1", token);
  a.ca_pem = TestPki::instance().read("other-ca.pem");
  texts.push_back(all_text(env.gw.push(target_for(a, "c1"), bundle_a(), opts())));
  a.ca_pem.clear();
  a.insecure_skip_tls_verify = true;
  texts.push_back(all_text(env.gw.push(target_for(a, "c1"), bundle_a(), opts())));
  auto t = target("c1", token);
  t.access.context = "other";
  texts.push_back(all_text(env.gw.push(t, bundle_a(), opts())));
  env.fake.fault({{"cluster", "c1"}, {"status", 500}, {"count", 20}, {"message", "etcd is down"}});
  texts.push_back(all_text(env.gw.push(target("c1", token), bundle_a(), opts())));
  env.fake.reset();
  // A refused Secret and a listed dry run, whose texts name keys but never values.
  env.fake.seed("c1", seeded_secret({{"ca-key.pem", b64(bundle_b().ca_key)}}, nlohmann::json::object()));
  texts.push_back(all_text(env.gw.push(target(), bundle_a(), opts())));
  auto o = dry();
  o.force = true;
  texts.push_back(all_text(env.gw.push(target(), bundle_a(), o)));
  CHECK(texts.size() == 7);
  for (const auto& s : texts) {
    CAPTURE(s);
    CHECK_FALSE(s.empty());
    CHECK(s.find(token) == std::string::npos);
    CHECK(s.find("BEGIN") == std::string::npos);  // no PEM
    CHECK(s.find(b64(bundle_a().ca_key).substr(0, 40)) == std::string::npos);
    CHECK(s.find(b64(bundle_b().ca_key).substr(0, 40)) == std::string::npos);
  }
}

TEST_CASE("kube.gateway: one exec credential cache serves every target") {
  Env env;
  testing::TempDir dir;
  const std::string script = dir.file("plugin.sh");
  {
    std::ofstream f(script);
    f << "#!/bin/sh\n"
         "n=$(( $(cat \"$STATE/count\" 2>/dev/null || echo 0) + 1 ))\n"
         "echo \"$n\" > \"$STATE/count\"\n"
         "echo '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
         "\"status\":{\"token\":\"tok-exec-good\"}}'\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  kube::ExecPlugin plugin;
  plugin.command = script;
  plugin.api_version = kube::kExecV1;
  plugin.env = {{"STATE", dir.path().string()}};
  auto a = env.fake.access("/clusters/c1", plugin);
  for (const std::string ns : {"istio-system", "mesh-two", "mesh-three"}) {
    auto out = env.gw.push(target_for(a, "c1", ns), bundle_a(), opts());
    CHECK(name(out.result) == "Created");
    CHECK(out.error == "");
  }
  std::ifstream count(dir.file("count"));
  int runs = 0;
  count >> runs;
  CHECK(runs == 1);
  CHECK(env.fake.requests("c1").back()["user"] == "exec-user");
}

// ---- cluster check ------------------------------------------------------------------------------------

namespace {
struct Row {
  std::string what;
  bool ok;
  std::string detail;
  bool operator==(const Row&) const = default;
};
std::vector<Row> rows(const std::vector<ca::AccessCheck>& checks) {
  std::vector<Row> out;
  for (const auto& c : checks) out.push_back({c.what, c.ok, c.detail});
  return out;
}
std::string dump(const std::vector<Row>& rs) {
  std::string s;
  for (const auto& r : rs) s += "\n" + r.what + " | " + (r.ok ? "ok" : "FAIL") + " | " + r.detail;
  return s;
}
}  // namespace

TEST_CASE("kube.gateway: check() on a cluster where everything a push needs is allowed") {
  Env env;
  auto got = rows(env.gw.check(target(), 10s));
  CAPTURE(dump(got));
  CHECK(got == std::vector<Row>{
                   {"reach", true, "v1.32.4"},
                   {"authentication", true, "the API server accepted the credential (token)"},
                   {"namespace istio-system", true, "does not exist; the credential may create it, and a push will"},
                   {"get secrets", true, "allowed in namespace istio-system"},
                   {"create secrets", true, "allowed in namespace istio-system"},
                   {"update secrets", true, "allowed in namespace istio-system"},
               });
  CHECK(writes("c1") == 4);  // the access reviews (POSTs that change nothing), no namespace created
  CHECK_FALSE(namespace_exists("c1", kNs));
  make_namespace("/clusters/c1", "tok-c1");
  CHECK(rows(env.gw.check(target(), 10s))[2] == Row{"namespace istio-system", true, "exists"});
}

TEST_CASE("kube.gateway: check() names the permissions a locked-down credential lacks") {
  Env env;
  auto got = rows(env.gw.check(target("locked", "tok-bob"), 10s));
  CAPTURE(dump(got));
  CHECK(got == std::vector<Row>{
                   {"reach", true, "v1.32.4"},
                   {"authentication", true, "the API server accepted the credential (token)"},
                   {"namespace istio-system", true, "exists"},
                   {"get secrets", true, "allowed in namespace istio-system"},
                   {"create secrets", false, "denied in namespace istio-system (denied by the fake's deny rules)"},
                   {"update secrets", false, "denied in namespace istio-system (denied by the fake's deny rules)"},
               });

  add_cluster_without_namespace_rights();
  env.fake.reset();
  got = rows(env.gw.check(target("nons", "tok-carol"), 10s));
  CAPTURE(dump(got));
  REQUIRE(got.size() == 6);
  CHECK(got[2] == Row{"namespace istio-system", false,
                      "does not exist, and the credential may not create it (denied by the fake's deny rules)"});
}

TEST_CASE("kube.gateway: check() stops where nothing further can be learnt") {
  Env env;
  auto got = rows(env.gw.check(target("c1", "tok-SECRET-wrong"), 10s));
  CAPTURE(dump(got));
  REQUIRE(got.size() == 6);
  CHECK(got[0] == Row{"reach", true, "v1.32.4"});
  CHECK(got[1] == Row{"authentication", false, "the API server refused the credential (401 Unauthorized)"});
  for (size_t i = 2; i < 6; ++i) {
    CHECK_FALSE(got[i].ok);
    CHECK(got[i].detail == "not checked: the credential was refused");
  }
  CHECK(env.fake.requests("c1").size() == 2);  // /version, the namespace

  auto a = env.fake.token_access("/clusters/c1", "tok-c1");
  a.ca_pem = TestPki::instance().read("other-ca.pem");
  got = rows(env.gw.check(target_for(a, "c1"), 10s));
  CAPTURE(dump(got));
  REQUIRE(got.size() == 6);
  CHECK_FALSE(got[0].ok);
  CHECK(got[0].detail.starts_with("cluster c1: GET version: the server certificate of " + env.fake.url("/clusters/c1") +
                                  " does not verify: "));
  CHECK(got[1] == Row{"authentication", false, "not checked: the API server cannot be reached"});
  CHECK(got[5].what == "update secrets");

  auto t = target();
  t.access.context = "nope";
  got = rows(env.gw.check(t, 10s));
  REQUIRE(got.size() == 6);
  CHECK(got[0] == Row{"reach", false,
                      "the stored kubeconfig cannot be used: kubeconfig has no context named 'nope' (contexts: test)"});

  // The insecure warning rides on the reach row.
  auto in = env.fake.token_access("/clusters/c1", "tok-c1");
  in.ca_pem.clear();
  in.insecure_skip_tls_verify = true;
  got = rows(env.gw.check(target_for(in, "c1"), 10s));
  CHECK(got[0].ok);
  CHECK(got[0].detail == "v1.32.4; TLS verification of " + env.fake.url("/clusters/c1") +
                             " is off (insecure-skip-tls-verify): the API server is not authenticated");
  for (const auto& r : got) CHECK(r.detail.find("tok-") == std::string::npos);
}

// ---- the client additions the gateway uses ----------------------------------------------------------

TEST_CASE("kube.client: delete_secret with a resourceVersion precondition; set_deadline") {
  Env env;
  FastOptions fast;
  kube::Client c(env.fake.token_access("/clusters/c1", "tok-c1"), fast.options("c1"));
  c.create_namespace(kNs);
  auto created = c.create_secret(kNs, seeded_secret({{"a", b64("a")}}, managed()));
  std::string rv = created["metadata"]["resourceVersion"];
  env.fake.seed("c1", *stored("c1"));  // someone writes: a new resourceVersion
  try {
    c.delete_secret(kNs, "cacerts", rv);
    FAIL("deleted a changed Secret");
  } catch (const kube::ApiError& e) {
    CHECK(e.conflict());
    CHECK(e.server_message().starts_with("Operation cannot be fulfilled on secrets \"cacerts\": Precondition failed: "
                                         "ResourceVersion in precondition: " + rv));
  }
  CHECK(c.last_attempts() == 1);
  CHECK(stored("c1").has_value());
  CHECK(c.delete_secret(kNs, "cacerts", std::string((*stored("c1"))["metadata"]["resourceVersion"])));
  CHECK_FALSE(stored("c1").has_value());
  CHECK_FALSE(c.delete_secret(kNs, "cacerts"));  // gone: false, not an error

  // An absolute deadline: a call after it sends nothing.
  clear_log();
  c.set_deadline(std::chrono::steady_clock::now() - 1ms);
  try {
    c.version();
    FAIL("sent after the deadline");
  } catch (const kube::TransportError& e) {
    CHECK(std::string(e.what()) == "cluster c1: GET version: not sent: the deadline for this cluster has passed");
    CHECK_FALSE(e.retryable());
  }
  CHECK(c.last_attempts() == 0);
  CHECK(env.fake.requests("c1").empty());
  // Waits count against it as asked for, also with an instant sleep.
  c.set_deadline(std::chrono::steady_clock::now() + 6s);
  env.fake.fault({{"cluster", "c1"}, {"path", "/version"}, {"status", 429}, {"retry_after", 4}});
  CHECK(c.version()["minor"] == "32");  // 4 s + the reserve (1.5 s) fit in 6 s
  env.fake.fault({{"cluster", "c1"}, {"path", "/version"}, {"status", 429}, {"retry_after", 4}});
  CHECK_THROWS_AS(c.version(), kube::ApiError);  // 2 s left: the second 4 s wait does not fit
  CHECK(fast.waits == std::vector<std::chrono::milliseconds>{4000ms});
  c.set_deadline(std::nullopt);
  env.fake.fault({{"cluster", "c1"}, {"path", "/version"}, {"status", 429}, {"retry_after", 4}});
  CHECK(c.version()["minor"] == "32");
}

// ---- connections shared between clusters behind one endpoint -----------------------------------

TEST_CASE("kube.gateway: clusters behind one endpoint share connections, each request with its own credential") {
  Env env;
  make_namespace("/clusters/c1", "tok-c1");
  make_namespace("", "tok-root");
  // Pushes alternate between c1 as user exec-user (token tok-exec-good) and the cluster at / as
  // admin (tok-root): the same endpoint, CA and (no) client certificate, so a connection one
  // leaves is the next one's.
  for (int round = 0; round < 3; ++round) {
    CHECK(env.gw.push(target("c1", "tok-exec-good"), round % 2 ? bundle_b() : bundle_a(), opts()).result != PushResult::Failed);
    CHECK(env.gw.push(target("root", "tok-root"), round % 2 ? bundle_b() : bundle_a(), opts()).result != PushResult::Failed);
  }
  // Every request reached its own cluster as its own user: a shared connection never carried
  // the other cluster's credential.
  const auto c1 = env.fake.requests("c1"), root = env.fake.requests("root");
  CHECK(c1.size() >= 9);
  CHECK(root.size() >= 9);
  for (const auto& r : c1) CHECK(r["user"] == "exec-user");
  for (const auto& r : root) CHECK(r["user"] == "admin");
  CHECK(decoded(*stored("c1"))["ca-cert.pem"] == bundle_a().ca_cert);
  CHECK(decoded(*stored("root"))["ca-cert.pem"] == bundle_a().ca_cert);
  // A cluster with a wrong token behind the same endpoint is refused on a shared connection too.
  auto refused = env.gw.push(target("c1", "tok-nobody"), bundle_a(), opts());
  CHECK(refused.result == PushResult::Failed);
  CHECK(refused.error.find("401") != std::string::npos);
}
