// Plain records the authority stores and returns. No behaviour, no library types beyond pki's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ca/clock.h"
#include "pki/encoding.h"

namespace meshtrust::ca {

enum class CertKind { Root, Intermediate, Workload, Server, Client };
enum class CertStatus { Active, Superseded, Revoked };

// The one of `values` whose to_string is `s`, or nullopt: the inverse of an enum's to_string.
template <class E, size_t N>
std::optional<E> enum_from(std::string_view s, const E (&values)[N]) {
  for (E v : values)
    if (to_string(v) == s) return v;
  return std::nullopt;
}

std::string to_string(CertKind k);
std::string to_string(CertStatus s);
CertKind cert_kind_from(const std::string& s);
CertStatus cert_status_from(const std::string& s);

struct CertificateRecord {
  std::string serial;  // lowercase hex
  CertKind kind = CertKind::Intermediate;
  std::optional<std::string> cluster;
  std::string subject;
  std::string issuer_serial;  // empty for roots
  std::int64_t not_before = 0;  // unix seconds
  std::int64_t not_after = 0;
  std::string fingerprint_sha256;
  std::string profile;
  std::string key_algorithm;
  std::optional<std::string> key_id;  // absent when the key is held elsewhere (CSR, workload)
  bool from_csr = false;
  CertStatus status = CertStatus::Active;
  std::int64_t issued_at_ms = 0;
  pki::Bytes der;
  std::optional<std::string> principal;  // kind Client: the principal it authenticates, e.g. "admin:alice"
};

struct CertificateFilter {
  std::optional<std::string> cluster;
  std::optional<CertKind> kind;
  std::optional<CertStatus> status;
  std::optional<std::int64_t> not_after_before;  // unix seconds
};

// A private key, sealed under the key-encryption key. `sealed` is never plaintext.
struct SealedKey {
  std::string id;
  std::string algorithm;
  pki::Bytes public_der;  // SubjectPublicKeyInfo, readable without the KEK
  pki::Bytes sealed;
};

// How meshtrust reaches one cluster's API server. `kubeconfig` is secret (it may hold a token or
// a client key): sealed at rest like keys, never logged, never in an event. The rest describes
// it for listings and is safe to show.
struct ClusterAccessSpec {
  std::string kubeconfig;  // self-contained: CA and client certificate inlined; tokenFile/exec stay references
  std::string context;     // the context to use in it
  std::string server;      // https://host:port[/prefix]
  std::string auth;        // "token", "tokenFile", "client-certificate", "exec (aws)", "none"
  bool insecure = false;   // insecure-skip-tls-verify: allowed, warned about on every push
};

struct ClusterRecord {
  std::string name;
  std::string ns = "istio-system";
  std::string secret_name = "cacerts";
  std::int64_t created_at_ms = 0;
  std::optional<std::string> current_serial;  // the intermediate the cluster should run
  // How to reach its API server, if meshtrust pushes to it. Records read for listings leave
  // `kubeconfig` empty: it is only opened (unsealed) for a push or a check.
  std::optional<ClusterAccessSpec> access;
};

// How the key-encryption key is obtained; stored at init, read before every unlock.
struct KekSettings {
  enum class Mode { Passphrase, File };
  Mode mode = Mode::File;
  pki::Bytes salt;  // scrypt salt (passphrase mode)
  std::uint64_t scrypt_n = 0;
  std::uint32_t scrypt_r = 0, scrypt_p = 0;
  pki::Bytes check;  // a known plaintext sealed under the KEK: tells a wrong passphrase from damage
};

struct CaSettings {
  std::string root_serial;  // the root that signs new intermediates
  std::string default_profile;
  std::string audit_key_id;
  std::string trust_domain = "cluster.local";
  // The roots every bundle's root-cert.pem carries, in order. Empty means just root_serial; two
  // during a root rotation (old, new).
  std::vector<std::string> trust_roots;
  // Configuration (`meshtrust config set`): ca-crl.pem in bundles, CRL lifetime, and when an
  // intermediate is due for renewal (percent of its lifetime left).
  bool bundle_crl = false;
  int crl_days = 7;
  int renew_percent = 33;

  std::vector<std::string> trust() const { return trust_roots.empty() ? std::vector<std::string>{root_serial} : trust_roots; }
};

// A revoked certificate (RFC 5280 reason names).
struct RevocationRecord {
  std::string serial, issuer_serial;
  std::string reason;  // "keyCompromise", ...
  std::int64_t revoked_at_ms = 0;
  std::string actor;
  // Not stored: the number of the CRL that lists it, when revoke() could publish one (an issuer
  // without cRLSign, or whose key the cluster holds, cannot sign CRLs).
  std::optional<std::uint64_t> crl_number;
};

// A signed CRL as issued; the latest per issuer is what is served.
struct CrlRecord {
  std::string issuer_serial;
  std::uint64_t number = 0;
  std::int64_t this_update = 0, next_update = 0;  // unix seconds
  pki::Bytes der;
};

// The root rotation state machine (istio-bundle.md, "Safe root rotation"):
//   TrustBoth        every bundle trusts old + new root; intermediates still under the old one
//   Reissuing        new intermediates under the new root are being issued (resumable)
//   NewIntermediates every cluster runs an intermediate under the new root; old + new trusted
// Completing drops the old root from every bundle and archives it.
enum class RotationPhase { TrustBoth, Reissuing, NewIntermediates };
std::string to_string(RotationPhase p);
RotationPhase rotation_phase_from(const std::string& s);

struct RootRotationRecord {
  RotationPhase phase = RotationPhase::TrustBoth;
  std::string old_root, new_root;
  std::int64_t started_at_ms = 0, phase_at_ms = 0;
  std::int64_t workload_ttl_s = 86400;  // how long old intermediates' workload certs may live on
  bool reissued = false;                // intermediates under the new root were issued (they may have signed workloads)
  pki::Bytes cross_signed;              // DER, or empty
};

// One audit event as stored: its leaf bytes (canonical JSON) are what is hashed.
struct AuditRecord {
  std::uint64_t index = 0;
  std::int64_t time_ms = 0;
  std::string actor, action;
  std::optional<std::string> cluster, serial;
  std::string outcome;
  std::string leaf;  // canonical JSON, exactly as hashed
  pki::Bytes leaf_hash;
};

struct AuditFilter {
  std::optional<std::int64_t> since_ms, until_ms;
  std::optional<std::string> actor, action, cluster, serial, outcome;
  std::uint64_t after_index = 0;  // cursor: events with index >= after_index
  // Event times never decrease along the log (the writer enforces it), so a time window is an
  // index range: stores may use that to answer from an index.
  std::uint32_t limit = 100;
};

struct TreeHead {
  std::uint64_t tree_size = 0;
  pki::Bytes root_hash;
  std::int64_t timestamp_ms = 0;
  pki::Bytes signature;  // DER ECDSA over the signed-tree-head text
};

}  // namespace meshtrust::ca
