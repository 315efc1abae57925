// Client certificates for mutual TLS: what is issued (a client-auth leaf naming its principal,
// under the signing root), which inputs are refused with nothing stored, and which presented
// certificates authenticate whom — revoked, expired, foreign or under a dropped root: nobody.
#include <doctest/doctest.h>

#include <functional>

#include "pki/certificate.h"
#include "pki/builder.h"
#include "pki/csr.h"
#include "pki/verify.h"
#include "support/authority_fixture.h"

using namespace meshtrust;
using testing::AuthorityFixture;
using testing::kind_of;

namespace {

std::size_t client_certs(AuthorityFixture& f) {
  ca::CertificateFilter filter;
  filter.kind = ca::CertKind::Client;
  return f.authority->certificates(filter).size();
}

std::uint64_t log_size(AuthorityFixture& f) { return f.authority->audit_head().tree_size; }

// An RSA-1024 CSR made with `openssl req -newkey rsa:1024` (meshtrust refuses to make such keys).
constexpr const char* kRsa1024Csr = R"(-----BEGIN CERTIFICATE REQUEST-----
MIIBTjCBuAIBADAPMQ0wCwYDVQQDDAR3ZWFrMIGfMA0GCSqGSIb3DQEBAQUAA4GN
ADCBiQKBgQDf5c495eKz4/VNAKII4GPXZIiP9TSvu3pWuqa67cadCEf41Xibqoz4
HJg8mMZai5zGjb69B9EUnX2aPwLtftemAtuS03A/KErGpd3+0G779ww/J4bwHJ4z
Ykn71vyuj3WrAJ0V+QAWxXzaDBe1IMz4HjYnQeJ4bRYNWX87EcJObQIDAQABoAAw
DQYJKoZIhvcNAQELBQADgYEAeg2Mv1pfI54PPT6Rq52xluxS9DKM5buFAePdBl40
mXOLPCRbVzcqAfXNQkDIOGUZ/vDnyKVwQ7Nm5ENYMqZBL2kcC8KGeTeQKFSK1sU3
W20jkMYx9tvLn0djvU8x7JsjyBsTV9SpnaJIdNbzFFj2M/+JpYUBd1VmAZg/wk5q
tKc=
-----END CERTIFICATE REQUEST-----
)";

}  // namespace

TEST_CASE("ca.client_cert: a central key gives a client-auth leaf that authenticates its principal") {
  AuthorityFixture f;
  auto root = f.init();
  auto issued = f.authority->issue_client_certificate("local:test", ca::Role::Auditor, "carol", std::nullopt, std::nullopt);
  auto chain = pki::Certificate::all_from_pem(issued.certificate_pem);
  REQUIRE(chain.size() == 2);
  const auto& cert = chain[0];
  CHECK_FALSE(cert.is_ca());
  CHECK(cert.key_usage() == unsigned{pki::kDigitalSignature});
  CHECK(cert.uris() == std::vector<std::string>{"urn:meshtrust:principal:auditor:carol"});
  CHECK(cert.subject().to_string() == "O=meshtrust, OU=auditor, CN=carol");
  CHECK(chain[1].serial().hex() == root.serial);
  CHECK(pki::verify_chain(cert, {}, {chain[1]}, ca::to_seconds(f.clock.now())).ok);
  CHECK(cert.not_after() - cert.not_before() == std::chrono::days(30) + std::chrono::minutes(5));  // default, backdated 5 min
  auto key = pki::PrivateKey::from_pem(issued.key_pem);
  CHECK(key.matches(cert.public_key()));
  CHECK(issued.record.kind == ca::CertKind::Client);
  CHECK(issued.record.principal == "auditor:carol");
  CHECK_FALSE(issued.record.key_id);  // the key was returned once and is not kept

  auto login = f.authority->authenticate_certificate(cert.der());
  REQUIRE(login.who);
  CHECK(login.who->actor() == "auditor:carol");
  CHECK(login.who->certificate_serial == issued.record.serial);

  // The issue event names the principal, never the key.
  ca::AuditFilter filter;
  filter.action = "client_certificate.issue";
  auto events = f.authority->audit_events(filter).events;
  REQUIRE(events.size() == 1);
  const auto& e = events.back();
  CHECK(e.serial == issued.record.serial);
  CHECK(e.leaf.find("\"principal\":\"auditor:carol\"") != std::string::npos);
  CHECK(e.leaf.find("PRIVATE KEY") == std::string::npos);
}

TEST_CASE("ca.client_cert: a CSR keeps the key with its holder; bad CSRs and names are refused with nothing stored") {
  AuthorityFixture f;
  f.init();
  f.add("c1");
  auto key = pki::PrivateKey::generate({pki::KeySpec::Type::Ec, 384});
  auto issued = f.authority->issue_client_certificate("local:test", ca::Role::Cluster, "c1",
                                                      pki::make_csr_pem(key, {{{"CN", "whatever"}}}), 7);
  CHECK(issued.key_pem.empty());
  auto cert = pki::Certificate::from_pem(issued.certificate_pem);
  CHECK(cert.public_key() == key.public_key());
  CHECK(cert.not_after() - cert.not_before() == std::chrono::days(7) + std::chrono::minutes(5));
  CHECK(issued.record.from_csr);
  CHECK(f.authority->authenticate_certificate(cert.der()).who->actor() == "cluster:c1");

  const auto certs = client_certs(f);
  const auto events = log_size(f);
  std::string good_csr = pki::make_csr_pem(key, {{{"CN", "x"}}});
  std::string tampered = good_csr;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  const std::vector<std::pair<std::string, std::function<void()>>> refusals = {
      {"garbage CSR", [&] { f.authority->issue_client_certificate("t", ca::Role::Admin, "a", "not a csr", std::nullopt); }},
      {"tampered CSR", [&] { f.authority->issue_client_certificate("t", ca::Role::Admin, "a", tampered, std::nullopt); }},
      {"RSA-1024 CSR", [&] { f.authority->issue_client_certificate("t", ca::Role::Admin, "a", kRsa1024Csr, std::nullopt); }},
      {"bad name", [&] { f.authority->issue_client_certificate("t", ca::Role::Admin, "Alice Smith", std::nullopt, std::nullopt); }},
      {"empty name", [&] { f.authority->issue_client_certificate("t", ca::Role::Admin, "", std::nullopt, std::nullopt); }},
      {"zero days", [&] { f.authority->issue_client_certificate("t", ca::Role::Admin, "a", std::nullopt, 0); }},
      {"366 days", [&] { f.authority->issue_client_certificate("t", ca::Role::Admin, "a", std::nullopt, 366); }},
  };
  for (const auto& [what, call] : refusals) {
    CAPTURE(what);
    CHECK(kind_of(call) == ca::ErrorKind::InvalidRequest);
  }
  CHECK(kind_of([&] { f.authority->issue_client_certificate("t", ca::Role::Cluster, "nope", std::nullopt, std::nullopt); }) ==
        ca::ErrorKind::NotFound);
  CHECK(client_certs(f) == certs);
  CHECK(log_size(f) == events);
}

TEST_CASE("ca.client_cert: revoked, expired, not yet valid and foreign certificates authenticate nobody") {
  AuthorityFixture f;
  f.init();
  f.add("c1");
  f.authority->issue("local:test", {"c1"}, {});
  auto a = f.authority->issue_client_certificate("local:test", ca::Role::Admin, "alice", std::nullopt, 10);
  auto b = f.authority->issue_client_certificate("local:test", ca::Role::Issuer, "ivan", std::nullopt, 10);
  auto der_a = pki::Certificate::from_pem(a.certificate_pem).der();
  auto der_b = pki::Certificate::from_pem(b.certificate_pem).der();
  REQUIRE(f.authority->authenticate_certificate(der_a).who);

  // Revoked through this authority: refused from the next call on, with the reason for the audit log.
  f.authority->revoke("local:test", a.record.serial, "keyCompromise");
  auto login = f.authority->authenticate_certificate(der_a);
  CHECK_FALSE(login.who);
  CHECK(login.refusal.find("revoked") != std::string::npos);
  CHECK(f.authority->authenticate_certificate(der_b).who);

  // Other certificates meshtrust issued are not client certificates; bytes it never issued are nobody.
  auto intermediate = f.authority->certificate(*f.authority->cluster("c1").current_serial);
  CHECK(f.authority->authenticate_certificate(intermediate.der).refusal.find("not one meshtrust issued") != std::string::npos);
  CHECK_FALSE(f.authority->authenticate_certificate(pki::Bytes{0x30, 0x03, 0x02, 0x01, 0x01}).who);
  pki::Bytes altered = der_b;
  altered[altered.size() - 1] ^= 1;  // same serial, different bytes
  CHECK_FALSE(f.authority->authenticate_certificate(altered).who);

  // Validity is checked against the clock on every call, cached or not.
  f.clock.advance(std::chrono::days(11));
  login = f.authority->authenticate_certificate(der_b);
  CHECK_FALSE(login.who);
  CHECK(login.refusal.find("validity") != std::string::npos);
  f.clock.advance(-std::chrono::days(11) - std::chrono::hours(1));
  CHECK_FALSE(f.authority->authenticate_certificate(der_b).who);  // before its notBefore (backdated 5 min)
}

TEST_CASE("ca.client_cert: certificates under a root that a completed rotation dropped authenticate nobody") {
  AuthorityFixture f;
  f.init();
  auto old = f.authority->issue_client_certificate("local:test", ca::Role::Admin, "alice", std::nullopt, 60);
  auto der = pki::Certificate::from_pem(old.certificate_pem).der();
  ca::RootRotateOptions o;
  o.workload_ttl = std::chrono::hours(1);
  f.authority->root_rotate_start("local:test", o);
  CHECK(f.authority->authenticate_certificate(der).who);  // both roots trusted
  for (int i = 0; i < 4 && f.authority->root_rotation().state; ++i) {
    f.clock.advance(std::chrono::hours(2));
    f.authority->root_rotate_advance("local:test");
  }
  REQUIRE_FALSE(f.authority->root_rotation().state);
  auto login = f.authority->authenticate_certificate(der);
  CHECK_FALSE(login.who);
  CHECK(login.refusal.find("no longer trusted") != std::string::npos);
  auto fresh = f.authority->issue_client_certificate("local:test", ca::Role::Admin, "alice", std::nullopt, 60);
  CHECK(f.authority->authenticate_certificate(pki::Certificate::from_pem(fresh.certificate_pem).der()).who);
}
