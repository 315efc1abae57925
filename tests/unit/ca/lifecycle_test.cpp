// Rotation, revocation, CRLs and the root rotation state machine, driven by the fixed clock:
// renewal thresholds, expiry reporting, CRL refresh, the workload-TTL wait.
#include <doctest/doctest.h>

#include "pki/certificate.h"
#include "pki/crl.h"
#include "pki/csr.h"
#include "pki/verify.h"
#include "support/authority_fixture.h"

using namespace meshtrust;
using testing::AuthorityFixture;
using testing::kind_of;
using std::chrono::hours;

namespace {

constexpr std::chrono::milliseconds days(long long d) { return std::chrono::milliseconds(d * 86400 * 1000); }


std::string current(AuthorityFixture& f, const std::string& cluster) { return *f.authority->cluster(cluster).current_serial; }

// A gateway that reports every push as done, so delivery states become in-sync.
class AlwaysPushes final : public ca::ClusterGateway {
 public:
  ca::PushOutcome push(const ca::PushTarget&, const ca::Bundle& b, const ca::PushOptions&) override {
    last_root_cert = b.root_cert;
    ca::PushOutcome o;
    o.result = ca::PushResult::Replaced;
    o.attempts = 1;
    return o;
  }
  std::vector<ca::AccessCheck> check(const ca::PushTarget&, std::chrono::milliseconds) override { return {}; }
  std::string last_root_cert;
};

void add_managed(AuthorityFixture& f, const std::string& name) {
  ca::ClusterRecord c;
  c.name = name;
  c.access = ca::ClusterAccessSpec{"kubeconfig", "main", "https://api", "token", false};
  f.authority->add_cluster("local:test", c);
}

}  // namespace

TEST_CASE("ca.lifecycle: an intermediate is due when under renew-percent of its life is left") {
  AuthorityFixture f;
  f.init();
  f.add("c1");
  f.authority->issue("local:test", {"c1"}, {});  // 365 days
  CHECK(f.authority->due_for_rotation().due.empty());
  f.clock.advance(days(240));  // 125 days left: 34% of 365
  CHECK(f.authority->due_for_rotation().due.empty());
  f.clock.advance(days(6));  // 119 days left: 32.6%
  auto due = f.authority->due_for_rotation();
  REQUIRE(due.due.size() == 1);
  CHECK(due.why["c1"].find("119 days left") != std::string::npos);
  // The threshold is a setting.
  f.authority->configure("local:test", "renew-percent", "20");
  CHECK(f.authority->due_for_rotation().due.empty());
  CHECK(kind_of([&] { f.authority->configure("local:test", "renew-percent", "95"); }) == ca::ErrorKind::InvalidRequest);
  CHECK(kind_of([&] { f.authority->configure("local:test", "nope", "1"); }) == ca::ErrorKind::InvalidRequest);
}

TEST_CASE("ca.lifecycle: the reconcile loop renews a due intermediate and pushes it") {
  AuthorityFixture f;
  f.init();
  add_managed(f, "c1");
  f.authority->issue("local:test", {"c1"}, {});
  const std::string first = current(f, "c1");
  AlwaysPushes gw;
  f.authority->reconcile(gw, {});
  CHECK(current(f, "c1") == first);  // not due: nothing rotated
  f.clock.advance(days(250));
  auto run = f.authority->reconcile(gw, {});
  const std::string second = current(f, "c1");
  CHECK(second != first);
  REQUIRE(run.reports.size() == 1);
  CHECK(run.reports[0].serial == second);
  CHECK(f.authority->certificate(first).status == ca::CertStatus::Superseded);  // not revoked
  CHECK(f.authority->due_for_rotation().due.empty());
  CHECK(f.authority->verify_audit().ok);
}

TEST_CASE("ca.lifecycle: rotation keeps the root and supersedes; rotate refuses what it cannot do") {
  AuthorityFixture f;
  auto root = f.init();
  f.add("c1");
  f.add("c2");
  f.authority->issue("local:test", {"c1"}, {});
  const std::string old = current(f, "c1");
  auto rotated = f.authority->rotate("local:test", {"c1"}, {});
  REQUIRE(rotated.size() == 1);
  CHECK(rotated[0].issuer_serial == root.serial);
  CHECK(current(f, "c1") == rotated[0].serial);
  CHECK(f.authority->certificate(old).status == ca::CertStatus::Superseded);
  CHECK(kind_of([&] { f.authority->rotate("local:test", {"c2"}, {}); }) == ca::ErrorKind::PolicyDenied);  // nothing to rotate
  CHECK(kind_of([&] { f.authority->issue("local:test", {"c1"}, {}); }) == ca::ErrorKind::PolicyDenied);   // issue is once
}

TEST_CASE("ca.lifecycle: revocation lists the serial in the issuer's CRL, with its reason, and flags the cluster") {
  AuthorityFixture f;
  auto root = f.init();
  f.add("c1");
  f.authority->issue("local:test", {"c1"}, {});
  const std::string serial = current(f, "c1");
  auto r = f.authority->revoke("local:test", serial, "key-compromise");
  CHECK(r.reason == "keyCompromise");
  CHECK(f.authority->certificate(serial).status == ca::CertStatus::Revoked);
  auto crl_rec = f.authority->crl();
  auto crl = pki::Crl::from_der(crl_rec.der);
  CHECK(crl.verify(pki::Certificate::from_der(root.der).public_key()));
  REQUIRE(crl.entries().size() == 1);
  CHECK(crl.entries()[0].serial.hex() == serial);
  CHECK(crl.entries()[0].reason == pki::RevocationReason::KeyCompromise);
  CHECK(f.authority->due_for_rotation().why["c1"] == "its intermediate is revoked");
  CHECK(f.authority->status().clusters[0].rotation_due == "its intermediate is revoked");

  // Refused, and nothing written: twice, a root, an unknown reason, removeFromCRL, no such serial.
  const auto size = f.authority->audit_head().tree_size;
  CHECK(kind_of([&] { f.authority->revoke("local:test", serial, "superseded"); }) == ca::ErrorKind::AlreadyExists);
  CHECK(kind_of([&] { f.authority->revoke("local:test", root.serial, "keyCompromise"); }) == ca::ErrorKind::PolicyDenied);
  CHECK(kind_of([&] { f.authority->revoke("local:test", serial, "because"); }) == ca::ErrorKind::InvalidRequest);
  CHECK(kind_of([&] { f.authority->revoke("local:test", serial, "removeFromCRL"); }) == ca::ErrorKind::InvalidRequest);
  CHECK(kind_of([&] { f.authority->revoke("local:test", "00ff", "keyCompromise"); }) == ca::ErrorKind::NotFound);
  CHECK(f.authority->audit_head().tree_size == size);

  // Rotating clears the flag.
  f.authority->rotate("local:test", {"c1"}, {});
  CHECK(f.authority->due_for_rotation().why.count("c1") == 0);
}

TEST_CASE("ca.lifecycle: the CRL is regenerated before nextUpdate, with a growing number") {
  AuthorityFixture f;
  f.init();
  auto first = f.authority->crl();  // crl-days 7
  CHECK(first.number == 1);
  CHECK(first.next_update - first.this_update >= 7 * 86400);
  f.clock.advance(days(3));
  CHECK(f.authority->crl().number == 1);  // fresh: served as is
  f.clock.advance(days(1));               // past half its life
  auto second = f.authority->crl();
  CHECK(second.number == 2);
  CHECK(second.this_update > first.this_update);
}

TEST_CASE("ca.lifecycle: with bundle-crl, bundles carry the root's and the intermediate's CRLs") {
  AuthorityFixture f;
  auto root = f.init();
  f.add("c1");
  f.authority->issue("local:test", {"c1"}, {});
  CHECK(f.authority->export_bundles("local:test", {"c1"})[0].ca_crl.empty());
  auto w = f.authority->issue_workload("local:test", {"ns1", "c1", "default", std::nullopt, std::nullopt});
  f.authority->revoke("local:test", w.serial, "superseded");
  f.authority->configure("local:test", "bundle-crl", "on");
  auto b = f.authority->export_bundles("local:test", {"c1"})[0];
  auto blocks = pki::parse_pem(b.ca_crl);
  REQUIRE(blocks.size() == 2);
  auto root_crl = pki::Crl::from_der(blocks[0].der), own_crl = pki::Crl::from_der(blocks[1].der);
  CHECK(root_crl.verify(pki::Certificate::from_der(root.der).public_key()));
  auto inter = pki::Certificate::from_pem(b.ca_cert);
  CHECK(own_crl.verify(inter.public_key()));
  REQUIRE(own_crl.entries().size() == 1);
  CHECK(own_crl.entries()[0].serial.hex() == w.serial);
}

TEST_CASE("ca.lifecycle: root rotation goes trust-both, new intermediates, new root only, with its preconditions") {
  AuthorityFixture f;
  auto old_root = f.init();
  add_managed(f, "c1");
  add_managed(f, "c2");
  f.authority->issue("local:test", {"c1", "c2"}, {});
  AlwaysPushes gw;
  f.authority->push("local:test", {}, {}, gw);

  ca::RootRotateOptions o;
  o.workload_ttl = std::chrono::hours(24);
  o.cross_sign = true;
  auto r = f.authority->root_rotate_start("local:test", o);
  CHECK(r.phase == ca::RotationPhase::TrustBoth);
  CHECK(kind_of([&] { f.authority->root_rotate_start("local:test", o); }) == ca::ErrorKind::Conflict);
  // Cross-signed: the new root's key, certified by the old root.
  auto cross = pki::Certificate::from_der(r.cross_signed);
  auto new_root = pki::Certificate::from_der(f.authority->certificate(r.new_root).der);
  CHECK(cross.public_key().der() == new_root.public_key().der());
  CHECK(cross.issuer() == pki::Certificate::from_der(old_root.der).subject());

  // Bundles trust both, in order; not pushed yet, so the advance waits.
  auto b = f.authority->export_bundles("local:test", {"c1"})[0];
  CHECK(pki::Certificate::all_from_pem(b.root_cert).size() == 2);
  CHECK(kind_of([&] { f.authority->root_rotate_advance("local:test"); }) == ca::ErrorKind::PolicyDenied);
  f.authority->push("local:test", {}, {}, gw);
  f.authority->root_rotate_advance("local:test");
  auto st = f.authority->root_rotation();
  REQUIRE(st.state);
  CHECK(st.state->phase == ca::RotationPhase::NewIntermediates);
  for (auto n : {"c1", "c2"}) CHECK(f.authority->certificate(current(f, n)).issuer_serial == r.new_root);

  // The old intermediates' workload certificates may live another day: refused until then.
  f.authority->push("local:test", {}, {}, gw);
  CHECK(kind_of([&] { f.authority->root_rotate_advance("local:test"); }) == ca::ErrorKind::PolicyDenied);
  f.clock.advance(std::chrono::hours(25));
  f.authority->root_rotate_advance("local:test");
  CHECK_FALSE(f.authority->root_rotation().state.has_value());
  CHECK(f.authority->status().trust == std::vector<std::string>{r.new_root});
  CHECK(f.authority->certificate(old_root.serial).status == ca::CertStatus::Superseded);  // archived, not deleted
  b = f.authority->export_bundles("local:test", {"c1"})[0];
  REQUIRE(pki::Certificate::all_from_pem(b.root_cert).size() == 1);
  CHECK(pki::Certificate::from_pem(b.root_cert).serial().hex() == r.new_root);
  CHECK(f.authority->verify_audit().ok);
}

TEST_CASE("ca.lifecycle: aborting a root rotation returns to the last safe state") {
  AuthorityFixture f;
  auto old_root = f.init();
  f.add("c1");
  f.authority->issue("local:test", {"c1"}, {});
  auto r = f.authority->root_rotate_start("local:test", {});
  f.authority->root_rotate_advance("local:test", /*ignore_unmanaged=*/true);
  CHECK(f.authority->certificate(current(f, "c1")).issuer_serial == r.new_root);
  // From new-intermediates back to trust-both: c1 back under the old root, both still trusted.
  f.authority->root_rotate_abort("local:test");
  auto st = f.authority->root_rotation();
  REQUIRE(st.state);
  CHECK(st.state->phase == ca::RotationPhase::TrustBoth);
  CHECK(st.signing_root == old_root.serial);
  CHECK(st.trust.size() == 2);
  CHECK(f.authority->certificate(current(f, "c1")).issuer_serial == old_root.serial);
  // From trust-both back to no rotation, which drops the new root: not while workload
  // certificates signed by the (superseded) new-root intermediate may still be alive.
  CHECK(kind_of([&] { f.authority->root_rotate_abort("local:test", true); }) == ca::ErrorKind::PolicyDenied);
  CHECK(f.authority->root_rotation(true).abort_blockers.size() == 1);
  f.clock.advance(std::chrono::hours(25));
  f.authority->root_rotate_abort("local:test", /*ignore_unmanaged=*/true);
  CHECK_FALSE(f.authority->root_rotation().state.has_value());
  CHECK(f.authority->status().trust == std::vector<std::string>{old_root.serial});
  CHECK(f.authority->certificate(r.new_root).status == ca::CertStatus::Superseded);
  CHECK(kind_of([&] { f.authority->root_rotate_abort("local:test"); }) == ca::ErrorKind::PolicyDenied);
  CHECK(f.authority->verify_audit().ok);
}

TEST_CASE("ca.lifecycle: the workload TTL counts from when the last cluster got its new intermediate") {
  AuthorityFixture f;
  f.init();
  add_managed(f, "c1");
  f.authority->issue("local:test", {"c1"}, {});
  AlwaysPushes gw;
  f.authority->push("local:test", {}, {}, gw);
  ca::RootRotateOptions o;
  o.workload_ttl = std::chrono::hours(1);
  f.authority->root_rotate_start("local:test", o);
  f.authority->push("local:test", {}, {}, gw);
  f.authority->root_rotate_advance("local:test");  // new intermediate issued, not pushed yet
  f.clock.advance(std::chrono::hours(2));           // istiod in c1 still signs with the old one
  f.authority->push("local:test", {}, {}, gw);      // only now does c1 switch
  CHECK(kind_of([&] { f.authority->root_rotate_advance("local:test"); }) == ca::ErrorKind::PolicyDenied);
  f.clock.advance(std::chrono::minutes(61));
  f.authority->root_rotate_advance("local:test");
  CHECK_FALSE(f.authority->root_rotation().state.has_value());
}

TEST_CASE("ca.lifecycle: an abort killed before its re-issue resumes it instead of dropping the new root") {
  AuthorityFixture f;
  auto old_root = f.init();
  f.add("c1");
  f.add("c2");
  f.authority->issue("local:test", {"c1", "c2"}, {});
  auto r = f.authority->root_rotate_start("local:test", {});
  f.authority->root_rotate_advance("local:test", true);
  // What a SIGKILL after the abort's first transaction leaves: trust-both, both clusters still
  // under the new root.
  {
    auto tx = f.store->begin(ca::Store::Mode::Write);
    auto s = *tx->settings().ca();
    s.root_serial = old_root.serial;
    tx->settings().put_ca(s);
    auto rot = *tx->rotation().get();
    rot.phase = ca::RotationPhase::TrustBoth;
    tx->rotation().put(rot);
    tx->commit();
  }
  f.reopen();
  f.clock.advance(std::chrono::hours(48));
  // This abort re-issues both under the old root first; the TTL of the new-root intermediates'
  // workload certificates then still has to pass before the new root can go.
  CHECK(kind_of([&] { f.authority->root_rotate_abort("local:test", true); }) == ca::ErrorKind::PolicyDenied);
  for (auto n : {"c1", "c2"}) CHECK(f.authority->certificate(current(f, n)).issuer_serial == old_root.serial);
  CHECK(f.authority->root_rotation(true).state->phase == ca::RotationPhase::TrustBoth);
  CHECK(f.authority->certificate(r.new_root).status == ca::CertStatus::Active);
}

TEST_CASE("ca.lifecycle: a cluster holding its own key under the new root blocks dropping the new root") {
  AuthorityFixture f;
  auto old_root = f.init();
  f.add("edge");
  auto key = pki::PrivateKey::generate({pki::KeySpec::Type::Ec, 256});
  f.authority->issue_from_csr("local:test", "edge", pki::make_csr_pem(key, {{{"CN", "edge"}}}, {}), {});
  f.authority->root_rotate_start("local:test", {});
  f.authority->root_rotate_advance("local:test", true);  // reissuing: edge must send a CSR itself
  REQUIRE(f.authority->root_rotation(true).state->phase == ca::RotationPhase::Reissuing);
  CHECK(kind_of([&] { f.authority->root_rotate_advance("local:test", true); }) == ca::ErrorKind::PolicyDenied);
  f.authority->issue_from_csr("local:test", "edge", pki::make_csr_pem(key, {{{"CN", "edge"}}}, {}), {}, /*rotation=*/true);
  f.authority->root_rotate_advance("local:test", true);
  REQUIRE(f.authority->root_rotation(true).state->phase == ca::RotationPhase::NewIntermediates);
  f.authority->root_rotate_abort("local:test", true);  // back to trust-both; edge stays under the new root
  f.clock.advance(std::chrono::hours(48));
  auto st = f.authority->root_rotation(true);
  REQUIRE(st.abort_blockers.size() == 1);
  CHECK(st.abort_blockers[0].find("edge") != std::string::npos);
  CHECK(kind_of([&] { f.authority->root_rotate_abort("local:test", true); }) == ca::ErrorKind::PolicyDenied);
  // Once edge is back under the old root (a new CSR), the new root can go.
  f.authority->issue_from_csr("local:test", "edge", pki::make_csr_pem(key, {{{"CN", "edge"}}}, {}), {}, true);
  CHECK(f.authority->certificate(current(f, "edge")).issuer_serial == old_root.serial);
  f.clock.advance(std::chrono::hours(48));
  f.authority->root_rotate_abort("local:test", true);
  CHECK_FALSE(f.authority->root_rotation().state.has_value());
}
