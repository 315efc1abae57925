// Helpers shared by the pki unit tests: a fixed clock, the openssl CLI as an independent oracle,
// small file I/O, and a root → intermediate → leaf chain built with pki's own builder.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kube/subprocess.h"
#include "pki/builder.h"
#include "pki/certificate.h"
#include "pki/key.h"

namespace meshtrust::testing {

// A UTC instant from calendar fields; nothing in the pki tests reads the clock.
inline pki::Time utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  using namespace std::chrono;
  return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss};
}
// The tests' "now": 2026-06-01T12:00:00Z.
inline pki::Time test_now() { return utc(2026, 6, 1, 12); }
inline long long epoch(pki::Time t) { return t.time_since_epoch().count(); }

struct CliResult {
  int status = -1;
  std::string out, err;
};

// Runs `openssl <args>` without a shell. The CLI is an oracle: if it is missing the test fails
// rather than silently passing.
inline CliResult openssl_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const char* path = std::getenv("PATH");
  std::vector<std::string> env{std::string("PATH=") + (path ? path : "/usr/bin:/bin")};
  auto r = kube::run_process(argv, env, std::chrono::seconds(60), 1 << 20);
  if (!r.started) throw std::runtime_error("cannot run openssl: " + r.start_error);
  return {r.exit_status, r.out, r.err};
}

// Like openssl_cli, but the command must succeed.
inline std::string openssl_ok(const std::vector<std::string>& args) {
  auto r = openssl_cli(args);
  if (r.status != 0) {
    std::string cmd;
    for (const auto& a : args) cmd += " " + a;
    throw std::runtime_error("openssl" + cmd + " exited " + std::to_string(r.status) + ": " + r.err);
  }
  return r.out;
}

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary);
  f << content;
  if (!f) throw std::runtime_error("cannot write " + path);
}
inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// RSA key generation takes from 0.1 to 3 s here: the tests share one RSA-2048 key.
inline const pki::PrivateKey& shared_rsa2048() {
  static const pki::PrivateKey key = pki::PrivateKey::generate(pki::KeySpec::parse("rsa-2048"));
  return key;
}

// Extension sets shaped like the default profile (istio-bundle.md).
inline pki::Extensions root_extensions() {
  pki::Extensions e;
  e.basic_constraints = pki::BasicConstraints{true, std::nullopt, true};
  e.key_usage = pki::KeyUsage{pki::kKeyCertSign | pki::kCrlSign | pki::kDigitalSignature, true};
  return e;
}
inline pki::Extensions intermediate_extensions(const std::string& cluster = "c1") {
  pki::Extensions e;
  e.basic_constraints = pki::BasicConstraints{true, 0L, true};
  e.key_usage = pki::KeyUsage{pki::kKeyCertSign | pki::kCrlSign | pki::kDigitalSignature, true};
  e.dns_names = {"istiod.istio-system.svc"};
  e.uris = {"spiffe://cluster.local/ns/istio-system/sa/istiod-" + cluster};
  return e;
}
inline pki::Extensions leaf_extensions() {
  pki::Extensions e;
  e.basic_constraints = pki::BasicConstraints{false, std::nullopt, true};
  e.key_usage = pki::KeyUsage{pki::kDigitalSignature | pki::kKeyEncipherment, true};
  e.extended_key_usage = {pki::ExtendedKeyUsage::ServerAuth, pki::ExtendedKeyUsage::ClientAuth};
  e.uris = {"spiffe://cluster.local/ns/default/sa/web"};
  return e;
}

inline pki::DistinguishedName dn(std::vector<std::pair<std::string, std::string>> entries) {
  return pki::DistinguishedName{std::move(entries)};
}

// A three-level chain over fresh P-256 keys (fast to generate). Validity:
//   root         2026-01-01 .. 2036-01-01
//   intermediate 2026-05-01 .. 2027-05-01
//   leaf         2026-06-01 .. 2026-06-02
struct TestChain {
  pki::PrivateKey root_key = pki::PrivateKey::generate(pki::KeySpec::parse("ecdsa-p256"));
  pki::PrivateKey inter_key = pki::PrivateKey::generate(pki::KeySpec::parse("ecdsa-p256"));
  pki::PrivateKey leaf_key = pki::PrivateKey::generate(pki::KeySpec::parse("ecdsa-p256"));
  pki::Certificate root = pki::sign_certificate(
      {pki::Serial::random128(), dn({{"O", "Istio"}, {"CN", "Root CA"}}), utc(2026, 1, 1), utc(2036, 1, 1),
       root_extensions()},
      root_key.public_key(), std::nullopt, root_key);
  pki::Certificate inter = pki::sign_certificate(
      {pki::Serial::random128(), dn({{"O", "Istio"}, {"CN", "Intermediate CA"}, {"L", "c1"}}), utc(2026, 5, 1),
       utc(2027, 5, 1), intermediate_extensions()},
      inter_key.public_key(), root, root_key);
  pki::Certificate leaf = pki::sign_certificate(
      {pki::Serial::random128(), dn({{"O", "Istio"}, {"CN", "Workload"}, {"L", "default"}}), utc(2026, 6, 1),
       utc(2026, 6, 2), leaf_extensions()},
      leaf_key.public_key(), inter, inter_key);
};

}  // namespace meshtrust::testing
