// The authority over a real SQLite store: issuance policy, key protection, atomicity and the
// audit events every change writes.
#include <doctest/doctest.h>

#include <thread>

#include "ca/audit.h"
#include "ca/profile.h"
#include "pki/certificate.h"
#include "pki/csr.h"
#include "pki/verify.h"
#include "support/authority_fixture.h"

using namespace meshtrust;
using testing::AuthorityFixture;
using testing::kind_of;

namespace {

std::vector<ca::AuditRecord> all_events(storage::SqliteStore& store) {
  auto tx = store.begin(ca::Store::Mode::Read);
  ca::AuditFilter f;
  f.limit = 100000;
  return tx->audit().query(f);
}

size_t row_count(storage::SqliteStore& store, const std::string& table) {
  auto& st = store.database().prepare("SELECT COUNT(*) FROM " + table);
  st.step();
  size_t n = static_cast<size_t>(st.int64(0));
  st.reset();
  return n;
}


}  // namespace

TEST_CASE("ca.authority: init creates a default-profile root and refuses a second init") {
  AuthorityFixture fx;
  CHECK_FALSE(fx.authority->initialized());
  auto root = fx.init();
  CHECK(fx.authority->initialized());
  auto cert = pki::Certificate::from_der(root.der);
  CHECK(cert.is_ca());
  CHECK(cert.is_self_signed());
  CHECK(cert.subject().to_string() == "O=Istio, CN=Root CA");
  CHECK(cert.public_key().spec().name() == "ecdsa-p384");
  CHECK(cert.not_before() == ca::to_seconds(testing::fixed_time()) - std::chrono::minutes(5));
  CHECK(cert.not_after() == ca::to_seconds(testing::fixed_time()) + std::chrono::days(3650));

  size_t events = all_events(*fx.store).size();
  CHECK(kind_of([&] { fx.init(); }) == ca::ErrorKind::AlreadyExists);
  CHECK(all_events(*fx.store).size() == events);
  CHECK(row_count(*fx.store, "certificates") == 1);
}

TEST_CASE("ca.authority: intermediates follow the profile and are capped at the root's end") {
  AuthorityFixture fx;
  ca::InitOptions o;
  o.kek_mode = ca::KekSettings::Mode::Passphrase;
  o.kek_secret = fx.secret;
  o.days = 100;  // a root that ends before a default intermediate would
  fx.authority->init("local:test", o);
  fx.add("c1");
  fx.add("c2");
  auto issued = fx.authority->issue("local:test", {"c1", "c2"}, {});
  REQUIRE(issued.size() == 2);
  auto root = pki::Certificate::from_pem(fx.authority->root_pem());
  for (const auto& rec : issued) {
    auto cert = pki::Certificate::from_der(rec.der);
    CHECK(cert.subject().to_string() == "O=Istio, CN=Intermediate CA, L=" + *rec.cluster);
    CHECK(cert.path_length() == 0);
    CHECK(cert.dns_names() == std::vector<std::string>{"istiod.istio-system.svc"});
    CHECK(cert.not_after() == root.not_after());
    CHECK(cert.serial().bytes.size() == 16);
    CHECK((cert.serial().bytes[0] & 0x80) == 0);
    CHECK(pki::verify_chain(cert, {}, {root}, ca::to_seconds(fx.clock.now())).ok);
  }
  CHECK(fx.authority->cluster("c1").current_serial == issued[0].serial);
}

TEST_CASE("ca.authority: issuing refuses bad input before doing any work") {
  AuthorityFixture fx;
  fx.init();
  fx.add("c1");
  CHECK(kind_of([&] { fx.authority->issue("local:test", {"c1", "nope"}, {}); }) == ca::ErrorKind::NotFound);
  CHECK(kind_of([&] { fx.authority->issue("local:test", {"c1", "c1"}, {}); }) == ca::ErrorKind::InvalidRequest);
  CHECK(kind_of([&] { fx.authority->issue("local:test", {"../c1"}, {}); }) == ca::ErrorKind::InvalidRequest);
  ca::IssueOptions bad_days;
  bad_days.days = 0;
  CHECK(kind_of([&] { fx.authority->issue("local:test", {"c1"}, bad_days); }) == ca::ErrorKind::InvalidRequest);
  ca::IssueOptions bad_alg;
  bad_alg.key_algorithm = "rsa-1024";
  CHECK(kind_of([&] { fx.authority->issue("local:test", {"c1"}, bad_alg); }) == ca::ErrorKind::InvalidRequest);
  CHECK(row_count(*fx.store, "certificates") == 1);
  fx.authority->issue("local:test", {"c1"}, {});
  CHECK(kind_of([&] { fx.authority->issue("local:test", {"c1"}, {}); }) == ca::ErrorKind::PolicyDenied);
}

TEST_CASE("ca.authority: a CSR contributes only its public key") {
  AuthorityFixture fx;
  fx.init();
  fx.add("c1");
  auto key = pki::PrivateKey::generate({pki::KeySpec::Type::Ec, 256});
  std::string csr = pki::make_csr_pem(key, {{{"CN", "evil"}, {"O", "Mallory"}}}, {"evil.example.com", "istiod.istio-system.svc"});
  auto rec = fx.authority->issue_from_csr("local:test", "c1", csr, {});
  auto cert = pki::Certificate::from_der(rec.der);
  CHECK(cert.public_key() == key.public_key());
  CHECK(cert.subject().to_string() == "O=Istio, CN=Intermediate CA, L=c1");
  CHECK(cert.dns_names() == std::vector<std::string>{"istiod.istio-system.svc"});
  CHECK(rec.from_csr);
  CHECK_FALSE(rec.key_id.has_value());
  auto bundles = fx.authority->export_bundles("local:test", {"c1"});
  CHECK(bundles[0].ca_key.empty());

  fx.add("c2");
  std::string broken = csr;
  broken[broken.size() / 2] = broken[broken.size() / 2] == 'A' ? 'B' : 'A';
  CHECK(kind_of([&] { fx.authority->issue_from_csr("local:test", "c2", broken, {}); }) == ca::ErrorKind::InvalidRequest);
  CHECK(kind_of([&] { fx.authority->issue_from_csr("local:test", "c2", "not a csr", {}); }) == ca::ErrorKind::InvalidRequest);
  CHECK_FALSE(fx.authority->cluster("c2").current_serial.has_value());
}

TEST_CASE("ca.authority: keys are sealed at rest and a wrong passphrase is refused") {
  AuthorityFixture fx;
  fx.init();
  fx.add("c1");
  fx.authority->issue("local:test", {"c1"}, {});
  auto bundle = fx.authority->export_bundles("local:test", {"c1"})[0];
  REQUIRE(bundle.ca_key.find("BEGIN PRIVATE KEY") != std::string::npos);
  auto plain_der = pki::PrivateKey::from_pem(bundle.ca_key).pkcs8_der();

  // No stored key blob contains the key's PKCS#8 bytes.
  auto& st = fx.store->database().prepare("SELECT sealed FROM keys");
  size_t keys = 0;
  while (st.step()) {
    ++keys;
    auto sealed = st.blob(0);
    CHECK(std::search(sealed.begin(), sealed.end(), plain_der.begin() + 8, plain_der.begin() + 40) == sealed.end());
  }
  CHECK(keys == 3);  // root, audit signing key, c1

  fx.secret = "wrong";
  fx.reopen();
  size_t events = all_events(*fx.store).size();
  CHECK(kind_of([&] { fx.authority->export_bundles("local:test", {"c1"}); }) == ca::ErrorKind::KeyAccess);
  CHECK(all_events(*fx.store).size() == events);
}

TEST_CASE("ca.authority: every change is one audit event with a signed head; no secrets in leaves") {
  AuthorityFixture fx;
  fx.init();
  fx.add("c1");
  fx.add("c2");
  fx.authority->issue("local:test", {"c1", "c2"}, {});
  auto bundles = fx.authority->export_bundles("local:test", {"c1"});
  ca::WorkloadRequest w;
  w.ns = "vm";
  w.cluster = "c1";
  auto workload = fx.authority->issue_workload("local:test", w);
  fx.authority->remove_cluster("local:test", "c2");

  auto events = all_events(*fx.store);
  std::vector<std::string> actions;
  for (const auto& e : events) actions.push_back(e.action);
  CHECK(actions == std::vector<std::string>{"root.create", "cluster.add", "cluster.add", "intermediate.issue",
                                            "intermediate.issue", "bundle.export", "workload.issue", "cluster.remove"});
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].index == i);
    auto j = nlohmann::json::parse(events[i].leaf);
    CHECK(ca::canonical_json(j) == events[i].leaf);  // stored exactly canonical
    CHECK(j["actor"] == "local:test");
    auto lh = ca::merkle::leaf_hash(pki::as_bytes(events[i].leaf));
    CHECK(pki::Bytes(lh.begin(), lh.end()) == events[i].leaf_hash);
    for (const char* secret : {"PRIVATE KEY", "correct horse"}) CHECK(events[i].leaf.find(secret) == std::string::npos);
    // No base64 run from any key released appears in a leaf.
    CHECK(events[i].leaf.find(bundles[0].ca_key.substr(40, 40)) == std::string::npos);
    CHECK(events[i].leaf.find(workload.key.substr(40, 40)) == std::string::npos);
  }

  std::string audit_pem = fx.authority->audit_public_key_pem();
  auto tx = fx.store->begin(ca::Store::Mode::Read);
  auto head = tx->audit().latest_head();
  REQUIRE(head.has_value());
  CHECK(head->tree_size == events.size());
  auto root = ca::tree_root(tx->audit(), events.size());
  CHECK(pki::Bytes(root.begin(), root.end()) == head->root_hash);
  // One head per commit (a batch of issues may share one), each over the log as it then was.
  auto heads = tx->audit().heads();
  CHECK(heads.size() >= 7);
  auto audit_key = pki::PublicKey::from_der(pki::parse_pem(audit_pem)[0].der);
  for (const auto& h : heads) {
    auto r = ca::tree_root(tx->audit(), h.tree_size);
    CHECK(pki::Bytes(r.begin(), r.end()) == h.root_hash);
    CHECK(pki::verify_sha256(audit_key, pki::as_bytes(ca::tree_head_message(h.tree_size, h.root_hash, h.timestamp_ms)),
                             h.signature));
  }
}

TEST_CASE("ca.authority: tokens authenticate until revoked or expired, also when recently used") {
  AuthorityFixture fx;
  fx.init();
  auto t = fx.authority->create_token("local:test", ca::Role::Auditor, "alice", std::chrono::hours(1));
  for (int i = 0; i < 3; ++i) {  // repeated use is served from the cache: same answer
    auto who = fx.authority->authenticate(t.token);
    REQUIRE(who);
    CHECK(who->role == ca::Role::Auditor);
    CHECK(who->name == "alice");
  }
  // A wrong secret for a known (and cached) id fails: the hash is compared on every request.
  std::string forged = t.token;
  forged.back() = forged.back() == '0' ? '1' : '0';
  CHECK_FALSE(fx.authority->authenticate(forged));
  // Expiry is checked against the clock on every request, cached or not.
  fx.clock.advance(std::chrono::minutes(61));
  CHECK_FALSE(fx.authority->authenticate(t.token));
  fx.clock.advance(-std::chrono::minutes(61));
  REQUIRE(fx.authority->authenticate(t.token));
  // A revoke through this authority takes effect at once.
  fx.authority->revoke_token("local:test", t.record.id);
  CHECK_FALSE(fx.authority->authenticate(t.token));
}

TEST_CASE("ca.authority: another process's token revoke is seen within about a second") {
  AuthorityFixture fx;
  fx.init();
  auto t = fx.authority->create_token("local:test", ca::Role::Admin, "ops", std::nullopt);
  REQUIRE(fx.authority->authenticate(t.token));  // cached now
  // Another authority over the same database file: a CLI run next to the server.
  storage::SqliteStore other_store(fx.dir.file("meshtrust.db"));
  ca::Authority other(other_store, fx.clock, [&](ca::KekSettings::Mode) { return fx.secret; });
  other.revoke_token("local:test", t.record.id);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK_FALSE(fx.authority->authenticate(t.token));
}

TEST_CASE("ca.authority: a delivered bundle follows a rotation at once here, and within a second elsewhere") {
  AuthorityFixture fx;
  fx.init();
  fx.add("c1");
  fx.authority->issue("local:test", {"c1"}, {});
  auto first = fx.authority->deliver_bundle("cluster:c1", "c1", true);
  CHECK(fx.authority->deliver_bundle("cluster:c1", "c1", true).serial == first.serial);  // served again
  CHECK(fx.authority->deliver_bundle("auditor:a", "c1", false).ca_key.empty());          // the key only for who may see it
  // A rotation through this authority: the next delivery has the new intermediate.
  auto rotated = fx.authority->rotate("local:test", {"c1"}, {}).front();
  auto second = fx.authority->deliver_bundle("cluster:c1", "c1", true);
  CHECK(second.serial == rotated.serial);
  CHECK(second.ca_key != first.ca_key);
  // A rotation by another process on the same data dir: seen within about a second.
  storage::SqliteStore other_store(fx.dir.file("meshtrust.db"));
  ca::Authority other(other_store, fx.clock, [&](ca::KekSettings::Mode) { return fx.secret; });
  auto third_rec = other.rotate("local:other", {"c1"}, {}).front();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(fx.authority->deliver_bundle("cluster:c1", "c1", true).serial == third_rec.serial);
}
